-- A slug is claimed when its listing is first published, not when a draft
-- is made: an unpublished listing must not be detectable by another
-- organisation through "this slug is taken". `slug` is the publisher's
-- own name for the listing (unique within the organisation);
-- `public_slug` keeps the old column and its unique constraint and holds
-- the public address: the slug once the listing has been published, and
-- before that a private placeholder ('~', the organisation's id, '~', the
-- slug), which cannot be a slug (slugs are lower-case letters, digits and
-- hyphens) and is never shown.

ALTER TABLE listings RENAME COLUMN slug TO public_slug;
ALTER TABLE listings ADD COLUMN slug TEXT NOT NULL DEFAULT '';
UPDATE listings SET slug = public_slug;
UPDATE listings SET public_slug = '~' || org_id || '~' || slug WHERE published_at IS NULL;
CREATE UNIQUE INDEX listings_org_slug_key ON listings (org_id, slug);

-- A listing's overlap case is kept per industry: a listing that moves to
-- another industry enters it anew (a new case, and for a first-party
-- listing a new sign-off). Keys of cases opened before name the listing only.
UPDATE conflict_cases
   SET dedupe_key = dedupe_key || ':' || industry
 WHERE kind IN ('first_party_overlap', 'partner_overlap')
   AND industry IS NOT NULL
   AND dedupe_key = kind || ':' || CAST(listing_id AS TEXT);

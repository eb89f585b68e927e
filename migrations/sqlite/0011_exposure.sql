-- How often each listing was shown in catalogue results (impressions) and
-- opened (detail views), per UTC day. App nodes count in memory and add
-- their counts here every few seconds, so several nodes sum up.

CREATE TABLE exposure_daily (
    day          BIGINT  NOT NULL,  -- days since 1970-01-01 (UTC)
    listing_id   BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    impressions  BIGINT  NOT NULL DEFAULT 0,
    views        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (day, listing_id)
);

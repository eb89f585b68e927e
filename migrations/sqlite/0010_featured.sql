-- Featured slots: a referee's choice, shown apart from the ranked results
-- (never reordering them). A first-party listing in a slot is "promoted".

CREATE TABLE featured_slots (
    listing_id          BIGINT  PRIMARY KEY REFERENCES listings (id) ON DELETE CASCADE,
    featured_by_user_id BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    promoted            BIGINT  NOT NULL CHECK (promoted IN (0, 1)),
    at                  BIGINT  NOT NULL
);

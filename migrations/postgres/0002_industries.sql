-- The industry taxonomy listings are filed under.
INSERT INTO industries (slug, name, created_at) VALUES
    ('healthcare',    'Healthcare', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('finance',       'Finance', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('insurance',     'Insurance', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('government',    'Government', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('legal',         'Legal', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('manufacturing', 'Manufacturing', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('energy',        'Energy', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('retail',        'Retail', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('logistics',     'Logistics', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('education',     'Education', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('agriculture',   'Agriculture', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('telecom',       'Telecom', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT));

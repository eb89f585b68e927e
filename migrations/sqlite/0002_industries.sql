-- The industry taxonomy listings are filed under.
INSERT INTO industries (slug, name, created_at) VALUES
    ('healthcare',    'Healthcare', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('finance',       'Finance', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('insurance',     'Insurance', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('government',    'Government', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('legal',         'Legal', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('manufacturing', 'Manufacturing', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('energy',        'Energy', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('retail',        'Retail', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('logistics',     'Logistics', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('education',     'Education', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('agriculture',   'Agriculture', CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('telecom',       'Telecom', CAST(strftime('%s', 'now') AS INTEGER) * 1000);

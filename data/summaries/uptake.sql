-- Summary tables of the program uptake view (analytics/uptake*.py). Rebuilt by every data.db.writer
-- session, so pages scan narrow pre-joined rows instead of joining millions of applications to
-- firms, programs and channels on every rerun. Idempotent; works on an empty database.
--
-- The reference date is meta 'as_of' (the generator's fixed "today"); without it, the last
-- submission, so that firm ages never depend on the wall clock.

-- Firm age in whole years on a day, as a band; the codes sort in age order. A macro stored in the
-- database, so that the analytics (the eligible population of a program) band ages the same way.
CREATE OR REPLACE MACRO uptake_age_band(founded, on_day) AS
    CASE
        WHEN date_sub('year', founded, on_day) < 3 THEN '00-02'
        WHEN date_sub('year', founded, on_day) < 7 THEN '03-06'
        WHEN date_sub('year', founded, on_day) < 10 THEN '07-09'
        WHEN date_sub('year', founded, on_day) < 20 THEN '10-19'
        ELSE '20+'
    END;

-- One row per application, joined with what every filter and breakdown needs, under the column
-- names analytics.filters.Filters.where expects (alias it for app, firm and program at once).
-- Ordered by submission time so that DuckDB's zone maps skip row groups outside a period filter.
CREATE OR REPLACE TABLE summary_uptake_apps AS
SELECT
    a.firm_id,
    a.program_id,
    p.ministry,
    p.agency,
    p.category,
    f.region_code,
    f.size_class,
    f.ksic_section,
    -- firm age when it applied, as a band
    uptake_age_band(f.founded_on, a.submitted_at::DATE) AS age_band,
    a.submitted_at,
    date_trunc('month', a.submitted_at)::DATE AS month,
    a.status,
    a.status = 'selected' AS selected,
    a.agreed_at IS NOT NULL AS agreed,
    a.agreed_at IS NOT NULL AND a.e_contract AS e_contract,
    a.paid_at IS NOT NULL AS paid,
    a.amount_awarded_krw,
    a.amount_requested_krw,
    a.docs_submitted,
    a.docs_auto_linked,
    date_diff('day', a.submitted_at::DATE, a.decided_at::DATE) AS decision_days,
    c.online,
    f.weight
FROM applications a
JOIN firms f USING (firm_id)
JOIN programs p USING (program_id)
LEFT JOIN channels c ON c.channel_id = a.channel_id
ORDER BY a.submitted_at;

-- The population the programs could reach: firms by the firm-side filter dimensions, with their
-- population weight (firms.weight), age taken at the reference date.
CREATE OR REPLACE TABLE summary_uptake_population AS
WITH ref AS (
    SELECT coalesce(
        (SELECT try_cast(value AS DATE) FROM meta WHERE key = 'as_of'),
        (SELECT max(submitted_at)::DATE FROM applications),
        DATE '2000-01-01') AS as_of
)
SELECT
    f.region_code,
    f.size_class,
    f.ksic_section,
    uptake_age_band(f.founded_on, ref.as_of) AS age_band,
    count(*) AS firms,
    sum(f.weight) AS firms_weighted
FROM firms f, ref
GROUP BY ALL;

-- One row per program: its attributes and whole-life uptake (for the budget and document views
-- and the program search, which must not scan the applications).
CREATE OR REPLACE TABLE summary_uptake_programs AS
SELECT
    p.program_id,
    p.title,
    p.ministry,
    p.agency,
    p.category,
    p.budget_krw,
    p.opens_on,
    p.closes_on,
    p.always_open,
    p.docs_required,
    p.docs_auto_linked,
    c.online,
    coalesce(u.applications, 0) AS applications,
    coalesce(u.applicants, 0) AS applicants,
    coalesce(u.selected, 0) AS selected,
    coalesce(u.awarded_krw, 0) AS awarded_krw
FROM programs p
LEFT JOIN channels c ON c.channel_id = p.channel_id
LEFT JOIN (
    SELECT program_id,
           count(*) AS applications,
           count(DISTINCT firm_id) AS applicants,
           count(*) FILTER (WHERE status = 'selected') AS selected,
           sum(amount_awarded_krw) AS awarded_krw
    FROM applications
    GROUP BY program_id
) u USING (program_id)
ORDER BY p.program_id;

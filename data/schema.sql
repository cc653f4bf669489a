-- Madang Insight data model (DuckDB). The one source of truth for table and column names: the
-- synthetic generator (data/build.py), the importer (data/load.py), the analytics and the tests all
-- create their databases from this file through data.db.create_schema().
--
-- Money is in whole KRW (BIGINT). Shares are fractions (0.287 = 28.7%). Timestamps are KST, stored
-- without a zone. Reference rows (regions, industries, size classes) are inserted at the end of this
-- file so that every database, synthetic or imported, shares the same codes.

-- ---------------------------------------------------------------- enums
-- Size classes are kept disjoint (a 소상공인 is not counted again as a 소기업) so that weighted counts add up.
CREATE TYPE size_class_t AS ENUM ('micro', 'small', 'medium', 'midsize', 'large');
-- 기업마당 support fields (지원분야 대분류), PLD0001..PLD0008 in that order.
CREATE TYPE category_t AS ENUM ('금융', '기술', '인력', '수출', '내수', '창업', '경영', '기타');
CREATE TYPE app_status_t AS ENUM ('submitted', 'selected', 'rejected', 'withdrawn');
CREATE TYPE fingerprint_kind_t AS ENUM ('phone', 'email', 'ip', 'device', 'bank_account', 'address', 'doc_author');
CREATE TYPE ai_status_t AS ENUM ('uses', 'plans', 'none');
CREATE TYPE model_t AS ENUM ('ktop', 'kvalue');
-- Planted broker rings (the first five) and honest look-alikes that must not be flagged (decoy_*).
CREATE TYPE ring_kind_t AS ENUM (
    'shared_contact', 'shared_device', 'template_plan', 'shared_author', 'burst',
    'decoy_accountant', 'decoy_public_pc', 'decoy_franchise');

-- ---------------------------------------------------------------- reference tables
-- The 17 시도 under their current 2-digit administrative codes (강원 51 since 2023-06-11, 전북 52 since
-- 2024-01-18; formerly 42 and 45). tile_row/tile_col place each region on a 5x4 tile-grid map.
CREATE TABLE regions (
    region_code     VARCHAR(2) PRIMARY KEY,
    name_ko         VARCHAR NOT NULL,
    short_ko        VARCHAR NOT NULL UNIQUE,   -- 서울, 부산, ...: the form used in 기업마당 hashtags
    name_en         VARCHAR NOT NULL,
    capital_region  BOOLEAN NOT NULL,          -- 수도권: 서울, 인천, 경기
    tile_row        TINYINT NOT NULL,
    tile_col        TINYINT NOT NULL,
    smes_2021       INTEGER NOT NULL           -- SMEs in the region, MSS SME statistics 2021 (calibration target)
);

-- KSIC (한국표준산업분류, 10th revision) sections; division_from/to give the 2-digit divisions a section
-- spans, so that exports quoting "제조업(10~34)" can be mapped.
CREATE TABLE industries (
    ksic_section    VARCHAR(1) PRIMARY KEY,
    name_ko         VARCHAR NOT NULL,
    name_en         VARCHAR NOT NULL,
    division_from   TINYINT NOT NULL,
    division_to     TINYINT NOT NULL
);

CREATE TABLE size_classes (
    size_class      size_class_t PRIMARY KEY,
    name_ko         VARCHAR NOT NULL,
    name_en         VARCHAR NOT NULL,
    is_sme          BOOLEAN NOT NULL,          -- 중소기업 = micro + small + medium
    sort_order      TINYINT NOT NULL
);

-- Application channels: the 37 MSS channels being linked to the integrated platform, plus others.
CREATE TABLE channels (
    channel_id      VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    agency          VARCHAR NOT NULL,
    online          BOOLEAN NOT NULL,
    mss             BOOLEAN NOT NULL           -- one of the ministry's 37 channels
);

-- ---------------------------------------------------------------- firms and programs
-- One row per firm: every attribute below is a SNAPSHOT (one value, whenever it was taken), not a
-- history. The scoring models compute firm age at each application's submission date and count
-- the firm's earlier applications and awards from `applications` (as of that date); every other
-- firm attribute they use (patents, certifications, debt, margins, growth, staff, revenue, wage)
-- is this snapshot. Imported real data whose snapshot postdates an application gives the models
-- look-ahead: import attributes as of the applications, or read the scores with that caveat.
CREATE TABLE firms (
    firm_id              BIGINT PRIMARY KEY,
    biz_no               VARCHAR(10) NOT NULL UNIQUE, -- 사업자등록번호, 10 digits with a valid check digit (personal data)
    name                 VARCHAR NOT NULL,
    ceo_name             VARCHAR,                     -- 대표자 (personal data)
    region_code          VARCHAR(2) NOT NULL REFERENCES regions (region_code),
    ksic_section         VARCHAR(1) NOT NULL REFERENCES industries (ksic_section),
    size_class           size_class_t NOT NULL,
    founded_on           DATE NOT NULL,
    employees            INTEGER NOT NULL CHECK (employees >= 0),
    revenue_krw          BIGINT NOT NULL CHECK (revenue_krw >= 0),
    exports_krw          BIGINT NOT NULL DEFAULT 0 CHECK (exports_krw >= 0),
    -- certifications: 벤처기업, 이노비즈 (기술혁신형), 메인비즈 (경영혁신형), 여성기업
    cert_venture         BOOLEAN NOT NULL DEFAULT false,
    cert_innobiz         BOOLEAN NOT NULL DEFAULT false,
    cert_mainbiz         BOOLEAN NOT NULL DEFAULT false,
    cert_women           BOOLEAN NOT NULL DEFAULT false,
    patents              INTEGER NOT NULL DEFAULT 0 CHECK (patents >= 0),
    patent_quality       DOUBLE,                      -- mean KPAS-like patent grade, 1 (best) .. 9; NULL without patents
    rnd_intensity        DOUBLE,                      -- R&D spending / revenue
    tech_staff           INTEGER,                     -- technical / research staff headcount
    ceo_experience_years INTEGER,                     -- the representative's years in the industry
    debt_ratio           DOUBLE,                      -- liabilities / equity
    operating_margin     DOUBLE,                      -- operating profit / revenue
    sales_growth         DOUBLE,                      -- revenue growth over the last year
    avg_wage_krw         BIGINT,                      -- average annual wage (a K-VALUE policy-purpose indicator)
    market_growth        DOUBLE,                      -- growth of the firm's market (industry x region)
    -- Population weight: how many real firms this row stands for. Weighted counts by 시도 and size
    -- reproduce the published SME totals at any generator scale. Imported real firms carry 1.
    weight               DOUBLE NOT NULL DEFAULT 1 CHECK (weight > 0)
);

-- Support programs (지원사업 공고). program_id keeps the source's own id (기업마당 pblancId for imports).
CREATE TABLE programs (
    program_id        VARCHAR PRIMARY KEY,
    title             VARCHAR NOT NULL,
    ministry          VARCHAR NOT NULL,            -- 소관부처 (jrsdInsttNm), e.g. 중소벤처기업부, or a 지자체
    agency            VARCHAR NOT NULL,            -- 수행기관 (excInsttNm), e.g. 중소벤처기업진흥공단
    agency_raw        VARCHAR,                     -- excInsttNm as published, placeholders (직접수행, 기초자치단체) included
    category          category_t NOT NULL,         -- 기업마당 지원분야 대분류
    category_raw      VARCHAR,                     -- the source's 지원분야 as published (제도@금융@경영), when imported
    subcategory       VARCHAR,                     -- 지원분야 중분류
    ai_related        BOOLEAN NOT NULL DEFAULT false,  -- supports AI adoption (used by the adoption view)
    budget_krw        BIGINT CHECK (budget_krw >= 0),
    opens_on          DATE,                        -- NULL with always_open or an unannounced window
    closes_on         DATE,
    always_open       BOOLEAN NOT NULL DEFAULT false,  -- 상시 접수
    window_text       VARCHAR,                     -- the source's free-text window (상시, 추후 공지, 사업별 상이)
    channel_id        VARCHAR REFERENCES channels (channel_id),
    docs_required     INTEGER CHECK (docs_required >= 0),      -- documents an application needs
    docs_auto_linked  INTEGER CHECK (docs_auto_linked >= 0),   -- of those, fetched by the agency (행정정보 공동이용)
    max_award_krw     BIGINT CHECK (max_award_krw >= 0),
    -- eligibility (중소벤처24 announcement fields); an empty list means "no restriction"
    target_sizes      size_class_t[] NOT NULL DEFAULT [],
    target_regions    VARCHAR[] NOT NULL DEFAULT [],    -- region codes
    target_industries VARCHAR[] NOT NULL DEFAULT [],    -- KSIC sections
    -- target groups that are not sizes (창업벤처, 사회적기업, 여성기업, 협동조합, 마을기업, 예비창업자, ...), in the
    -- source's words; an empty list means none named. A program naming sizes and groups is open to either.
    target_groups     VARCHAR[] NOT NULL DEFAULT [],
    min_age_years     INTEGER,                     -- firm age band, inclusive
    max_age_years     INTEGER,
    -- sales and employee bands (중소벤처24 SI01..SI07, EI01..EI06), as limits on the firm's own figures
    -- (firms.revenue_krw, firms.employees): inclusive, NULL = no limit. Plain limits rather than band
    -- codes, like the age band, so that rules such as 상시근로자 5인 미만 (max_employees 4) or 매출 10억원
    -- 이하 need no table of code boundaries (a band code becomes its limits).
    min_revenue_krw   BIGINT CHECK (min_revenue_krw >= 0),
    max_revenue_krw   BIGINT CHECK (max_revenue_krw >= 0),
    min_employees     INTEGER CHECK (min_employees >= 0),
    max_employees     INTEGER CHECK (max_employees >= 0),
    required_certs    VARCHAR[] NOT NULL DEFAULT [],    -- venture, innobiz, mainbiz, women
    url               VARCHAR,
    summary           VARCHAR,
    source            VARCHAR NOT NULL DEFAULT 'synthetic',  -- synthetic, bizinfo, csv, parquet
    posted_at         TIMESTAMP,                   -- when the announcement was published (creatPnttm)
    -- the agency's contact for the program (rceptInsttChargerDeptNm, rceptInsttTelno, rceptInsttEmailAdres):
    -- officials' work contacts, personal data shown only to roles that may see contact data (data/privacy.py)
    contact_office    VARCHAR,
    contact_phone     VARCHAR,
    contact_email     VARCHAR,
    CHECK (closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on),
    CHECK (max_revenue_krw IS NULL OR min_revenue_krw IS NULL OR max_revenue_krw >= min_revenue_krw),
    CHECK (max_employees IS NULL OR min_employees IS NULL OR max_employees >= min_employees),
    CHECK (docs_auto_linked IS NULL OR docs_required IS NULL OR docs_auto_linked <= docs_required)
);

-- ---------------------------------------------------------------- applications
-- One application of one firm to one program. The funnel is submitted_at -> decided_at (status)
-- -> agreed_at (협약, e_contract when signed electronically) -> paid_at.
-- Its references are not declared: DuckDB checks a declared foreign key row by row on one thread
-- (~5 us a row, 15 of 18 s when inserting 3 M applications; it cannot add one after loading), which
-- alone put the scale-10 build over its 5-minute budget. data/load_checks.py checks them on import
-- and tests/data/test_build.py on every generated database.
CREATE TABLE applications (
    application_id        BIGINT PRIMARY KEY,
    firm_id               BIGINT NOT NULL,             -- references firms (checked by the importer and tests)
    program_id            VARCHAR NOT NULL,            -- references programs (checked by the importer and tests)
    submitted_at          TIMESTAMP NOT NULL,
    channel_id            VARCHAR,                     -- references channels (checked by the importer and tests)
    status                app_status_t NOT NULL,
    amount_requested_krw  BIGINT CHECK (amount_requested_krw >= 0),
    amount_awarded_krw    BIGINT NOT NULL DEFAULT 0 CHECK (amount_awarded_krw >= 0),  -- > 0 only when selected
    docs_submitted        INTEGER CHECK (docs_submitted >= 0),   -- documents the firm uploaded itself
    docs_auto_linked      INTEGER CHECK (docs_auto_linked >= 0), -- documents fetched by the agency
    decided_at            TIMESTAMP,
    agreed_at             TIMESTAMP,                  -- agreement signed (selected only)
    e_contract            BOOLEAN NOT NULL DEFAULT false,  -- the agreement was an electronic contract
    paid_at               TIMESTAMP,                  -- first payment
    CHECK (decided_at IS NULL OR decided_at >= submitted_at),
    CHECK (status = 'selected' OR amount_awarded_krw = 0)
);

-- Identifiers seen with an application (personal data: contact details, network and document
-- metadata). Broker detection links applications that share them. No key: an application may carry
-- several values of one kind, and a per-row index would double the build time at 70 M rows.
CREATE TABLE app_fingerprints (
    application_id  BIGINT NOT NULL,              -- references applications (checked by the importer and tests)
    kind            fingerprint_kind_t NOT NULL,
    value           VARCHAR NOT NULL
);

-- The business plan (사업계획서) text submitted with an application, in Korean.
CREATE TABLE business_plans (
    application_id  BIGINT NOT NULL,              -- references applications (checked by the importer and tests)
    plan_text       VARCHAR NOT NULL
);

-- Published sample plans (K-Startup style templates) that many honest firms copy: reference data,
-- importable like any table; the broker detection seeds its suppression list from it, so a copy of a
-- public sample never links firms.
CREATE TABLE public_templates (
    plan_text       VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL              -- where the sample was published
);

-- ---------------------------------------------------------------- AI-adoption survey
-- Respondent microdata of an enterprise AI-use survey; weight makes the sample represent all firms
-- of its stratum (region x size x industry). Barriers and wished-for support are multi-choice.
CREATE TABLE ai_survey (
    respondent_id        BIGINT PRIMARY KEY,
    survey_year          SMALLINT NOT NULL,
    region_code          VARCHAR(2) NOT NULL REFERENCES regions (region_code),
    size_class           size_class_t NOT NULL,
    ksic_section         VARCHAR(1) NOT NULL REFERENCES industries (ksic_section),
    weight               DOUBLE NOT NULL CHECK (weight > 0),
    ai_status            ai_status_t NOT NULL,
    uses_ai              BOOLEAN NOT NULL,           -- ai_status = 'uses'
    plans_ai             BOOLEAN NOT NULL,           -- ai_status = 'plans'
    barrier_cost         BOOLEAN NOT NULL DEFAULT false,
    barrier_skills       BOOLEAN NOT NULL DEFAULT false,
    barrier_integration  BOOLEAN NOT NULL DEFAULT false,
    barrier_security     BOOLEAN NOT NULL DEFAULT false,
    barrier_no_need      BOOLEAN NOT NULL DEFAULT false,
    wish_training        BOOLEAN NOT NULL DEFAULT false,  -- hands-on training
    wish_cases           BOOLEAN NOT NULL DEFAULT false,  -- success cases and information
    wish_education       BOOLEAN NOT NULL DEFAULT false,  -- basic and practical education
    wish_funding         BOOLEAN NOT NULL DEFAULT false,
    wish_consulting      BOOLEAN NOT NULL DEFAULT false
);

-- ---------------------------------------------------------------- synthetic truth (never read by detectors or models' features)
-- Oracle probabilities from the generator's latent model and the outcomes drawn from them. The
-- realised outcomes are the training labels; the probabilities give the best possible AUC.
CREATE TABLE truth_outcomes (
    application_id  BIGINT PRIMARY KEY,
    p_default       DOUBLE NOT NULL,   -- true 3-year default / failure probability (K-TOP target)
    defaulted       BOOLEAN NOT NULL,
    p_success       DOUBLE NOT NULL,   -- true probability that the supported firm succeeds (K-value target)
    succeeded       BOOLEAN NOT NULL
);

-- Planted broker rings and decoy groups, one row per member application.
CREATE TABLE truth_broker_rings (
    application_id  BIGINT NOT NULL,
    ring_id         INTEGER NOT NULL,
    ring_kind       ring_kind_t NOT NULL,
    decoy           BOOLEAN NOT NULL,  -- an honest group that shares identifiers; must stay unflagged
    PRIMARY KEY (application_id, ring_id)
);

-- ---------------------------------------------------------------- scoring outputs (scoring.train)
-- One row per trained model version (kept for the audit trail; only the latest version of each model
-- keeps scores and SHAP values). features lists the drivers in the order of shap_values.contrib.
CREATE TABLE model_versions (
    model           model_t NOT NULL,
    model_version   VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    features        JSON NOT NULL,      -- ordered feature list with Korean names and groups
    params          JSON NOT NULL,
    data_hash       VARCHAR NOT NULL,   -- hash of the training data, so a rerun can be matched
    metrics         JSON NOT NULL,      -- AUC, Brier, calibration, oracle gap, ...
    artifact        BLOB NOT NULL,      -- the serialised model
    PRIMARY KEY (model, model_version)
);

-- Every application's score from the latest version of each model.
CREATE TABLE scores (
    application_id  BIGINT NOT NULL,
    model           model_t NOT NULL,
    model_version   VARCHAR NOT NULL,
    probability     DOUBLE NOT NULL,    -- calibrated probability of the model's target (ktop: default, kvalue: success)
    log_odds        DOUBLE NOT NULL,    -- calibrated log-odds of that target = base + sum(shap_values.contrib)
    score           DOUBLE NOT NULL,    -- 0..1000 points, higher is better (linear in log_odds, clipped)
    grade           VARCHAR NOT NULL,   -- AAA .. D (scoring.grades)
    percentile      DOUBLE NOT NULL,    -- share of all applications with a lower score (0..100)
    PRIMARY KEY (application_id, model, model_version)
);

-- Exact SHAP contributions to scores.log_odds, one row per application and model: contrib[i] belongs
-- to the i-th driver of model_versions.features (one-hot columns already summed into their driver,
-- calibration already applied). base (metrics.base_log_odds) + sum(contrib) = scores.log_odds. An
-- array per row instead of one row per driver: 20x fewer rows to write and to scan for one applicant.
CREATE TABLE shap_values (
    application_id  BIGINT NOT NULL,
    model           model_t NOT NULL,
    model_version   VARCHAR NOT NULL,
    contrib         DOUBLE[] NOT NULL
);

-- ---------------------------------------------------------------- program matching outputs (python -m analytics.matching evaluate)
-- One row per evaluation run of the matcher: its parameters, the time split, what it chose to rank
-- with, and the fitted ranker the page recommends with (pickled analytics.matching.rank.Ranker: the
-- models and the live statistics). The page reads the latest run; data_key says which data it saw.
CREATE TABLE matching_runs (
    run_id          VARCHAR PRIMARY KEY,
    created_at      TIMESTAMP NOT NULL,
    params          JSON NOT NULL,      -- seed, k, evaluation and training queries, bootstrap resamples
    data_key        VARCHAR NOT NULL,   -- applications and programs it was computed on (stale when they change)
    train_cut       DATE NOT NULL,      -- labels from [train_cut, eval_cut), evaluation on [eval_cut, end_day]
    eval_cut        DATE NOT NULL,
    end_day         DATE NOT NULL,
    summary         JSON NOT NULL,      -- queries, candidates per query, unreachable share, winner, ...
    ranker          BLOB NOT NULL
);

-- Figures of each method of a run: NDCG@k and recall@k with 95% paired-bootstrap intervals over the
-- queries, recall counting unreachable applications as misses, and the NDCG margin over the
-- strongest baseline with its interval.
CREATE TABLE matching_figures (
    run_id          VARCHAR NOT NULL REFERENCES matching_runs (run_id),
    method          VARCHAR NOT NULL,
    ndcg            DOUBLE, ndcg_lo DOUBLE, ndcg_hi DOUBLE,
    recall          DOUBLE, recall_lo DOUBLE, recall_hi DOUBLE,
    recall_all      DOUBLE,
    recall_selected DOUBLE,
    margin          DOUBLE, margin_lo DOUBLE, margin_hi DOUBLE,
    PRIMARY KEY (run_id, method)
);

-- Permutation importance of the best learned ranker's features in a run (NDCG lost when shuffled).
CREATE TABLE matching_importance (
    run_id          VARCHAR NOT NULL REFERENCES matching_runs (run_id),
    feature         VARCHAR NOT NULL,
    ndcg_drop       DOUBLE NOT NULL,
    PRIMARY KEY (run_id, feature)
);

-- ---------------------------------------------------------------- program matching blind spots (python -m analytics.matching evaluate)
-- The blind spots (추천 사각지대) of the reference day with no filters, computed by the same batch
-- step with the run's ranker (minutes at national scale), so the page's default view only reads them:
-- the day and the "good match" bar, the firms by group and number of eligible programs, the sampled
-- firms' well-matched counts, and the programs open that day. Other days and filters are computed live.
CREATE TABLE matching_gap_runs (
    run_id          VARCHAR PRIMARY KEY REFERENCES matching_runs (run_id),
    day             DATE NOT NULL,
    bar             DOUBLE NOT NULL     -- the score of the median firm's 10th recommendation
);

CREATE TABLE matching_gap_firms (
    run_id          VARCHAR NOT NULL REFERENCES matching_gap_runs (run_id),
    region_code     VARCHAR, size_class VARCHAR, ksic_section VARCHAR,
    n_eligible      INTEGER NOT NULL,   -- programs open on the day the firms may apply to
    weight          DOUBLE NOT NULL,    -- firms they stand for (firms.weight summed)
    n_firms         INTEGER NOT NULL    -- firms of the database
);

CREATE TABLE matching_gap_sample (
    run_id          VARCHAR NOT NULL REFERENCES matching_gap_runs (run_id),
    region_code     VARCHAR, size_class VARCHAR, ksic_section VARCHAR,
    stands_for      DOUBLE NOT NULL,    -- weight of the group over its sampled firms
    n_good          INTEGER NOT NULL    -- programs scoring at least the bar for this sampled firm
);

CREATE TABLE matching_gap_programs (
    run_id          VARCHAR NOT NULL REFERENCES matching_gap_runs (run_id),
    program_id      VARCHAR NOT NULL,
    title           VARCHAR, ministry VARCHAR, agency VARCHAR, category VARCHAR,
    always_open     BOOLEAN, closes_on DATE,
    eligible_share  DOUBLE NOT NULL, recommended_share DOUBLE NOT NULL,
    applications    INTEGER NOT NULL, applicants INTEGER NOT NULL,  -- in the 365 days before the day
    PRIMARY KEY (run_id, program_id)
);

-- ---------------------------------------------------------------- metadata
-- build info: source (synthetic | imported), scale, seed, built_at, data_version (changes on every
-- build or import, so that caches see a new database at once), lineage (set when a file is made, kept
-- by imports: the detection runs beside the file that describe its data, see data.db.run_writer).
CREATE TABLE meta (
    key             VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL
);


-- The records (decisions, suppressions, cases, case events, access log) are not here: they live in a
-- transactional store, see data/records.sql and data/records.py.

-- @run-tables -------------------------------------------------- broker detection outputs (analytics.brokers)
-- Not in the data file: each detection run's results are a DuckDB file of their own beside it
-- (data.db.run_writer, one run a file, these tables), so that storing a run never copies the data
-- file. The run_id column is the file's one run; it keeps the readers' SQL that of a table of runs.
CREATE TABLE broker_runs (
    run_id          VARCHAR PRIMARY KEY,
    created_at      TIMESTAMP NOT NULL,
    params          JSON NOT NULL
);

CREATE TABLE broker_clusters (
    run_id          VARCHAR NOT NULL,
    cluster_id      INTEGER NOT NULL,
    size            INTEGER NOT NULL,
    risk            DOUBLE NOT NULL,
    flagged         BOOLEAN NOT NULL,
    reasons         JSON,              -- the parts of the risk score, for the auditor
    n_firms         INTEGER,           -- distinct firms (a firm's repeated applications count once)
    evidence_groups VARCHAR[],         -- independent kinds of evidence on its links (contact, network, plan, ...)
    awarded_krw     BIGINT,            -- amount awarded to its applications
    n_programs      INTEGER,
    n_regions       INTEGER,
    first_at        TIMESTAMP,         -- first and last submission
    last_at         TIMESTAMP,
    PRIMARY KEY (run_id, cluster_id)
);

CREATE TABLE broker_cluster_members (
    run_id          VARCHAR NOT NULL,
    cluster_id      INTEGER NOT NULL,
    application_id  BIGINT NOT NULL,
    PRIMARY KEY (run_id, application_id)
);

-- Weighted links between two applications (app_a < app_b), with their evidence.
-- Related firms (특수관계 기업): 2-3 firms sharing a home (address and phone) or a representative,
-- listed apart from the rings (lower priority) and counted as one household in them.
CREATE TABLE broker_related_firms (
    run_id          VARCHAR NOT NULL,
    household       BIGINT NOT NULL,   -- the group's smallest firm_id
    firm_id         BIGINT NOT NULL,
    basis           VARCHAR NOT NULL,  -- home, representative, or both joined by '+'
    PRIMARY KEY (run_id, firm_id)
);

CREATE TABLE broker_links (
    run_id          VARCHAR NOT NULL,
    app_a           BIGINT NOT NULL,
    app_b           BIGINT NOT NULL,
    weight          DOUBLE NOT NULL,
    evidence        JSON NOT NULL,     -- shared identifiers with their kind, frequency and weight
    plan_similarity DOUBLE,
    time_gap_hours  DOUBLE,
    strong          BOOLEAN,           -- counted for clustering (enough independent evidence)
    evidence_groups VARCHAR[],
    CHECK (app_a < app_b)
);

-- @data-rows ---------------------------------------------------- reference rows (data file only)
INSERT INTO regions VALUES
    ('11', '서울특별시',     '서울', 'Seoul',             true,  0, 1, 1625000),
    ('28', '인천광역시',     '인천', 'Incheon',           true,  0, 0,  403000),
    ('41', '경기도',         '경기', 'Gyeonggi',          true,  0, 2, 1989000),
    ('51', '강원특별자치도', '강원', 'Gangwon',           false, 0, 3,  234000),
    ('44', '충청남도',       '충남', 'Chungcheongnam',    false, 1, 0,  313000),
    ('36', '세종특별자치시', '세종', 'Sejong',            false, 1, 1,   42000),
    ('43', '충청북도',       '충북', 'Chungcheongbuk',    false, 1, 2,  229000),
    ('47', '경상북도',       '경북', 'Gyeongsangbuk',     false, 1, 3,  382000),
    ('52', '전북특별자치도', '전북', 'Jeonbuk',           false, 2, 0,  272000),
    ('30', '대전광역시',     '대전', 'Daejeon',           false, 2, 1,  198000),
    ('27', '대구광역시',     '대구', 'Daegu',             false, 2, 2,  335000),
    ('31', '울산광역시',     '울산', 'Ulsan',             false, 2, 3,  138000),
    ('29', '광주광역시',     '광주', 'Gwangju',           false, 3, 0,  198000),
    ('46', '전라남도',       '전남', 'Jeollanam',         false, 3, 1,  283000),
    ('48', '경상남도',       '경남', 'Gyeongsangnam',     false, 3, 2,  466000),
    ('26', '부산광역시',     '부산', 'Busan',             false, 3, 3,  481000),
    ('50', '제주특별자치도', '제주', 'Jeju',              false, 4, 0,  125000);

INSERT INTO industries VALUES
    ('A', '농업, 임업 및 어업', 'Agriculture, forestry and fishing', 1, 3),
    ('B', '광업', 'Mining and quarrying', 5, 8),
    ('C', '제조업', 'Manufacturing', 10, 34),
    ('D', '전기, 가스, 증기 및 공기조절 공급업', 'Electricity, gas and steam supply', 35, 35),
    ('E', '수도, 하수 및 폐기물 처리, 원료 재생업', 'Water, sewage and waste management', 36, 39),
    ('F', '건설업', 'Construction', 41, 42),
    ('G', '도매 및 소매업', 'Wholesale and retail trade', 45, 47),
    ('H', '운수 및 창고업', 'Transportation and storage', 49, 52),
    ('I', '숙박 및 음식점업', 'Accommodation and food service', 55, 56),
    ('J', '정보통신업', 'Information and communication', 58, 63),
    ('K', '금융 및 보험업', 'Financial and insurance', 64, 66),
    ('L', '부동산업', 'Real estate', 68, 68),
    ('M', '전문, 과학 및 기술 서비스업', 'Professional, scientific and technical services', 70, 73),
    ('N', '사업시설 관리, 사업 지원 및 임대 서비스업', 'Business support and rental services', 74, 76),
    ('O', '공공 행정, 국방 및 사회보장 행정', 'Public administration and defence', 84, 84),
    ('P', '교육 서비스업', 'Education', 85, 85),
    ('Q', '보건업 및 사회복지 서비스업', 'Human health and social work', 86, 87),
    ('R', '예술, 스포츠 및 여가관련 서비스업', 'Arts, sports and recreation', 90, 91),
    ('S', '협회 및 단체, 수리 및 기타 개인 서비스업', 'Membership organisations, repair and personal services', 94, 96),
    ('T', '가구 내 고용활동 및 자가 소비 생산활동', 'Activities of households', 97, 98),
    ('U', '국제 및 외국기관', 'Extraterritorial organisations', 99, 99);

INSERT INTO size_classes VALUES
    ('micro',   '소상공인', 'Micro (small merchants)', true,  1),
    ('small',   '소기업',   'Small',                   true,  2),
    ('medium',  '중기업',   'Medium',                  true,  3),
    ('midsize', '중견기업', 'Mid-sized',               false, 4),
    ('large',   '대기업',   'Large',                   false, 5);

"""Synthetic fingerprints, business plans and planted broker rings (with decoys and noise).

:func:`plant` runs after firms, programs and applications exist. Honest identifiers are derived in
SQL from seeded hashes of firm and application ids (bijections where values must be unique);
rings and decoys are a few thousand rows chosen in numpy and applied as per-application overrides.
Kinds of evidence a ring member may carry: ``contact`` (broker phone/email), ``device`` (broker
device/IP), ``template`` (broker's plan template), ``author`` (document author), ``burst``
(submitted within hours of the others). A ring's main kind covers 85-95% of its members, two other
kinds 45-75% each (see :func:`_coverage`); 45% of members get a selection boost.

Decoys (truth rows with decoy = true) share identifiers honestly: an accounting office (its name as
document author on all, its phone on ~60%, its IP on ~70%, distinct plans, no burst), a public PC
at a regional centre (its device on all, its IP on ~90%), franchise stores (the franchisor's plan
template, nothing else). Noise carried by honest applications: call-centre phones (2%), placeholder
e-mails (1.5%), carrier-NAT IPs (8%), PC-bang device and IP (1%), a second device (10%), a one-off
IP (12%), placeholder document authors (5%), households sharing a phone (1.5% of firms) or an
account (1%), and copies of the public sample plans (0.4% of applications, half verbatim).
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from data.synth import plans as synth_plans
from data.synth.names import GIVEN_FIRST, GIVEN_SECOND, SURNAMES, ceo_names

RING_KINDS = ("shared_contact", "shared_device", "template_plan", "shared_author", "burst")
DECOY_KINDS = ("decoy_accountant", "decoy_public_pc", "decoy_franchise")
_EVIDENCE = ("contact", "device", "template", "author", "burst")
_MAIN = dict(zip(RING_KINDS, _EVIDENCE))

# Noise shared by thousands of honest applications (real data has it; a detector must cap it).
CALL_CENTRES = ("1588-1234", "1577-0199", "1544-8282", "1566-3300", "1600-9000", "1588-7070")
PLACEHOLDER_EMAILS = ("none@none.com", "test@test.com", "a@a.com")
NAT_IPS = tuple(f"{a}.{b}.{c}.{d}" for a, b in ((211, 234), (223, 38), (39, 7), (106, 101), (110, 70))
                for c, d in ((10, 1), (44, 17), (97, 130), (120, 5), (180, 66), (201, 9)))
PLACEHOLDER_AUTHORS = ("user", "Windows 사용자", "admin", "Microsoft Office 사용자")
_AREA = {"11": "02", "26": "051", "27": "053", "28": "032", "29": "062", "30": "042", "31": "052", "36": "044",
         "41": "031", "51": "033", "43": "043", "44": "041", "52": "063", "46": "061", "47": "054", "48": "055", "50": "064"}
_SIGUNGU = {
    "11": "강남구 서초구 송파구 마포구 영등포구 금천구 구로구 성동구 중구 강서구", "26": "해운대구 부산진구 사상구 강서구 동래구 남구",
    "27": "달서구 북구 수성구 중구 동구", "28": "남동구 부평구 연수구 서구 미추홀구", "29": "광산구 북구 서구 남구",
    "30": "유성구 대덕구 서구 중구", "31": "남구 울주군 북구 중구", "36": "세종시",
    "41": "성남시 분당구 수원시 영통구 화성시 용인시 기흥구 부천시 안산시 단원구 고양시 일산동구 평택시 김포시 시흥시",
    "51": "춘천시 원주시 강릉시 속초시", "43": "청주시 흥덕구 충주시 제천시 음성군 진천군", "44": "천안시 서북구 아산시 당진시 서산시 논산시",
    "52": "전주시 덕진구 익산시 군산시 정읍시 완주군", "46": "순천시 목포시 여수시 나주시 광양시", "47": "포항시 남구 구미시 경산시 경주시 안동시",
    "48": "창원시 성산구 김해시 진주시 양산시 거제시 통영시", "50": "제주시 서귀포시",
}
_ROADS = ("중앙로", "테헤란로", "산업로", "공단로", "대학로", "시청로", "역전로", "번영로", "문화로", "첨단로", "벤처로", "광장로",
          "호수로", "강변로", "평화로", "창업로", "디지털로", "과학로", "테크노로", "하나로")
_BANKS = ("국민은행", "신한은행", "우리은행", "하나은행", "IBK기업은행", "NH농협은행", "부산은행", "대구은행", "카카오뱅크")
_DOMAINS = ("naver.com", "naver.com", "gmail.com", "daum.net", "hanmail.net", "nate.com", "kakao.com")
_WORDS = ("hanbit", "mirae", "green", "smart", "korea", "best", "jinsung", "daon", "nuri", "star", "ceo", "office",
          "info", "biz", "sales", "happy", "sky", "tech", "good", "kim", "lee", "park", "choi", "jung")


def _list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


def _pick(items: tuple[str, ...], h: str) -> str:
    return f"{_list(items)}[({h} % {len(items)})::INTEGER + 1]"


# Honest identifiers of a firm, one column per kind. Values come from mix(firm_id * 64 + k);
# uniqueness where it matters from bijections ((id * odd + c) mod 10^k). Households (1.5% of firms
# for the phone, 1% for the account) share it with the firm id - 1.
def _firm_sql() -> str:
    sgg = "[" + ", ".join(_list(_SIGUNGU[r].split(" ")) for r in sorted(_SIGUNGU)) + "]"
    area = _list([_AREA[r] for r in sorted(_AREA)])
    ridx = f"list_position({_list(sorted(_SIGUNGU))}, f.region_code)"
    house_p = "CASE WHEN mix(f.firm_id * 64 + 9) % 1000 < 15 THEN f.firm_id - 1 ELSE f.firm_id END"
    house_b = "CASE WHEN mix(f.firm_id * 64 + 10) % 1000 < 10 THEN f.firm_id - 1 ELSE f.firm_id END"
    mob = f"lpad((({house_p} * 37493311 + 12345) % 100000000)::VARCHAR, 8, '0')"
    own_phone = (f"CASE WHEN mix({house_p} * 64 + 1) % 4 = 0 THEN concat({area}[{ridx}], '-', substr({mob}, 1, 3 + (mix(f.firm_id * 64 + 2) % 2)::INTEGER), '-', substr({mob}, 5, 4)) "
                 f"ELSE concat('010-', substr({mob}, 1, 4), '-', substr({mob}, 5, 4)) END")
    acct = f"lpad((({house_b} * 61349231 + 777) % 100000000)::VARCHAR, 8, '0')"
    bank = (f"concat({_list(_BANKS)}[(mix({house_b} * 64 + 3) % {len(_BANKS)})::INTEGER + 1], ' ', "
            f"lpad((mix({house_b} * 64 + 4) % 1000)::VARCHAR, 3, '0'), '-', substr({acct}, 1, 4), '-', substr({acct}, 5, 4), "
            f"(mix({house_b} * 64 + 5) % 90 + 10)::VARCHAR)")
    ip4 = "concat(({x} >> 24) % 223 + 1, '.', ({x} >> 16) % 256, '.', ({x} >> 8) % 256, '.', {x} % 254 + 1)"
    home_ip = ip4.format(x="((f.firm_id * 2654435761 + 97) % 4294967296)")
    author = (f"CASE WHEN mix(f.firm_id * 64 + 24) % 10 < 6 OR f.ceo_name IS NULL THEN coalesce(f.ceo_name, f.name) "
              f"ELSE concat({_pick(tuple(SURNAMES), 'mix(f.firm_id * 64 + 25)')}, {_pick(tuple(GIVEN_FIRST), 'mix(f.firm_id * 64 + 26)')}, "
              f"{_pick(tuple(GIVEN_SECOND), 'mix(f.firm_id * 64 + 27)')}) END")
    address = (f"concat(rg.name_ko, ' ', {sgg}[{ridx}][(mix(f.firm_id * 64 + 18) % len({sgg}[{ridx}]))::INTEGER + 1], ' ', "
               f"{_pick(_ROADS, 'mix(f.firm_id * 64 + 19)')}, ' ', mix(f.firm_id * 64 + 20) % 300 + 1, ', ', "
               f"mix(f.firm_id * 64 + 21) % 12 + 1, '층 ', mix(f.firm_id * 64 + 22) % 20 + 1, '호')")
    email = (f"concat({_pick(_WORDS, 'mix(f.firm_id * 64 + 13)')}, (f.firm_id * 48611 + 31) % 10000000, '@', "
             f"{_pick(_DOMAINS, 'mix(f.firm_id * 64 + 14)')})")
    return f"""
        SELECT f.firm_id, f.region_code, {own_phone} AS phone, {email} AS email, {home_ip} AS ip,
               concat('DEV-', upper(hex(mix(f.firm_id * 64 + 17) % 281474976710656))) AS device,
               concat('DEV-', upper(hex(mix(f.firm_id * 64 + 16) % 281474976710656))) AS device2,
               {bank} AS bank_account, {address} AS address, {author} AS doc_author
        FROM firms f JOIN regions rg ON rg.region_code = f.region_code
    """


def _app_sql(pcbangs: int) -> str:
    """Per-application identifiers from the firm's (temp table _firm_fp), with the noise real data has."""
    app_ip = "concat(({x} >> 24) % 223 + 1, '.', ({x} >> 16) % 256, '.', ({x} >> 8) % 256, '.', {x} % 254 + 1)".format(
        x="(mix(a.application_id * 64 + 6) % 4294967296)")
    pc = f"concat('PCB-', f.region_code, '-', mix(a.application_id * 64 + 7) % {pcbangs})"
    r = "mix(a.application_id * 64 + 8) % 1000"  # one draw per application decides the noise it carries
    return f"""
        SELECT a.application_id,
            CASE WHEN {r} < 20 THEN {_pick(CALL_CENTRES, 'mix(a.application_id * 64 + 11)')} ELSE f.phone END AS phone,
            CASE WHEN {r} >= 20 AND {r} < 35 THEN {_pick(PLACEHOLDER_EMAILS, 'mix(a.application_id * 64 + 12)')} ELSE f.email END AS email,
            CASE WHEN {r} >= 35 AND {r} < 115 THEN {_pick(NAT_IPS, 'mix(a.application_id * 64 + 15)')}
                 WHEN {r} >= 115 AND {r} < 125 THEN concat('PCB-IP-', {pc})
                 WHEN {r} >= 125 AND {r} < 245 THEN {app_ip} ELSE f.ip END AS ip,
            CASE WHEN {r} >= 115 AND {r} < 125 THEN {pc} WHEN {r} >= 245 AND {r} < 345 THEN f.device2 ELSE f.device END AS device,
            f.bank_account, f.address,
            CASE WHEN {r} >= 345 AND {r} < 395 THEN {_pick(PLACEHOLDER_AUTHORS, 'mix(a.application_id * 64 + 23)')} ELSE f.doc_author END AS doc_author
        FROM applications a JOIN _firm_fp f USING (firm_id)
    """


def _coverage(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """Evidence flags (n x 5, order of _EVIDENCE) for the members of one ring.

    The ring's main kind covers 85-95% of members; two other kinds cover 45-75% each; most members
    left with fewer than two kinds get one more (real brokers leave several traces, unevenly).
    """
    ev = np.zeros((n, len(_EVIDENCE)), dtype=bool)
    main = _EVIDENCE.index(_MAIN[kind])
    ev[:, main] = rng.random(n) < rng.uniform(0.85, 0.95)
    others = rng.choice([i for i in range(len(_EVIDENCE)) if i != main], 2, replace=False)
    for o in others:
        ev[:, o] = rng.random(n) < rng.uniform(0.45, 0.75)
    thin = np.flatnonzero((ev.sum(1) < 2) & (rng.random(n) < 0.9))
    for m in thin:
        free = [i for i in (main, *others) if not ev[m, i]]
        ev[m, rng.choice(free)] = True
    return ev


class _Picker:
    """Draws unused applications of firms near a region, 1-3 per firm."""

    def __init__(self, con: duckdb.DuckDBPyConnection, rng: np.random.Generator) -> None:
        df = con.execute("""SELECT a.application_id, a.firm_id, f.region_code FROM applications a JOIN firms f USING (firm_id)
                            ORDER BY a.firm_id, a.application_id""").df()
        self.rng = rng
        self.app = df["application_id"].to_numpy()
        firm = df["firm_id"].to_numpy()
        self.start = np.flatnonzero(np.r_[True, firm[1:] != firm[:-1]])
        self.end = np.r_[self.start[1:], len(firm)]
        reg = df["region_code"].to_numpy()[self.start]
        self.regions = np.unique(reg)
        self.firms_of = {r: np.flatnonzero(reg == r) for r in self.regions}
        self.weights = np.array([len(self.firms_of[r]) for r in self.regions], float)
        self.used = np.zeros(len(self.app), dtype=bool)

    def region(self) -> str:
        return self.rng.choice(self.regions, p=self.weights / self.weights.sum())

    def take(self, size: int, region: str | None, per_firm: int) -> np.ndarray:
        """About ``size`` unused applications, from firms of ``region`` (20% elsewhere; None: anywhere)."""
        out: list[int] = []
        for _ in range(size * 6):
            if len(out) >= size:
                break
            pool = self.firms_of[region] if region is not None and self.rng.random() < 0.8 else self.firms_of[self.region()]
            fi = pool[self.rng.integers(len(pool))]
            idx = np.arange(self.start[fi], self.end[fi])
            idx = idx[~self.used[idx]][: self.rng.integers(1, per_firm + 1)]
            self.used[idx] = True
            out.extend(self.app[idx].tolist())
        return np.array(out[:size] if len(out) > size else out, dtype=np.int64)


# Columns of the per-application override table _ovr (None: keep the honest value).
_OVR_COLS = {"application_id": "int64", "group_id": "Int64", "ring_kind": "string", "decoy": "boolean",
             "phone": "string", "email": "string", "ip": "string", "device": "string", "doc_author": "string",
             "tmpl_key": "Int64", "tmpl_grp": "Int64", "keep_pct": "Int64", "burst": "boolean", "burst_hours": "Float64",
             "boost": "boolean"}


def _groups(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(overrides per member application, truth rows) for every ring and decoy group."""
    pick = _Picker(con, rng)
    n_rings, n_decoys = max(25, round(300 * scale)), max(15, round(150 * scale))
    kinds = [RING_KINDS[i % 5] for i in range(n_rings)] + [DECOY_KINDS[i % 3] for i in range(n_decoys)]
    people = ceo_names(rng, len(kinds) * 2)
    parts: dict[str, list[np.ndarray]] = {}  # column -> one array per group (object arrays, None = no override)

    for gid, kind in enumerate(kinds, start=1):
        decoy = kind in DECOY_KINDS
        size = int(min(40, 5 + rng.geometric(0.09))) if not decoy else int(rng.integers(8, 30))
        apps = pick.take(size, None if kind == "decoy_franchise" else pick.region(), 1 if decoy else 3)
        n = len(apps)
        if n < 3:
            continue
        cols = {c: np.full(n, None, dtype=object) for c in _OVR_COLS}

        def put(col: str, mask: np.ndarray | bool | slice, value: object) -> None:
            cols[col][mask] = value

        key = int(rng.integers(1, 2**40)) * 8 + 1  # template key, apart from firm (x*7+3) and app (x*7+5) keys
        tail = f"{rng.integers(1000, 10000)}-{rng.integers(1000, 10000)}"
        if kind == "decoy_accountant":  # office files for its clients: its author, often its phone and IP
            put("doc_author", True, rng.choice(["세무회계 ", "세무사 ", "회계사무소 "]) + people[2 * gid - 2])
            put("phone", rng.random(n) < 0.6, f"{_AREA[pick.region()]}-{tail}")
            put("ip", rng.random(n) < 0.7, f"175.{gid % 250}.{rng.integers(1, 255)}.{rng.integers(1, 255)}")
        elif kind == "decoy_public_pc":  # one PC at a regional support centre
            put("device", True, f"DEV-PUBLIC-{gid:05d}")
            put("ip", rng.random(n) < 0.9, f"27.{gid % 250}.{rng.integers(1, 255)}.{rng.integers(1, 255)}")
        elif kind == "decoy_franchise":  # the franchisor's plan template, nothing else shared
            put("tmpl_key", True, key)
            put("tmpl_grp", True, int(rng.choice([2, 3])))
            put("keep_pct", True, int(rng.integers(72, 81)))
        else:
            contact, device, template, author, burst = _coverage(rng, kind, n).T
            both = rng.random(n)
            put("phone", contact & (both < 0.8), f"010-{tail}")
            put("email", contact & (both >= 0.5), f"{rng.choice(_WORDS)}{rng.integers(100, 10000)}@{rng.choice(_DOMAINS)}")
            put("device", device & (both < 0.85), f"DEV-{rng.integers(16**11, 16**12):012X}")
            put("ip", device & (both >= 0.2), f"{rng.integers(1, 223)}.{rng.integers(256)}.{rng.integers(256)}.{rng.integers(1, 255)}")
            name = people[2 * gid - 1]
            put("doc_author", author, name if rng.random() < 0.6 else rng.choice(["경영컨설팅 ", "기업지원센터 ", "R&D연구소 "]) + name)
            put("tmpl_key", template, key)
            put("tmpl_grp", template, int(rng.integers(0, 9)))
            put("keep_pct", template, int(rng.integers(74, 81)))
            put("burst", slice(None), burst)
            put("burst_hours", slice(None), rng.uniform(0, 6, n))
            put("boost", slice(None), rng.random(n) < 0.45)
        put("application_id", slice(None), apps)
        put("group_id", True, gid)
        put("ring_kind", True, kind)
        put("decoy", True, decoy)
        for c, v in cols.items():
            parts.setdefault(c, []).append(v)
    # Honest copiers of public sample plans: ~0.4% of the remaining applications, half verbatim.
    free = pick.app[~pick.used]
    cop = np.sort(rng.choice(free, max(30, int(0.004 * len(pick.app))), replace=False))
    ovr = pd.DataFrame({c: np.concatenate(v) for c, v in parts.items()}).astype(_OVR_COLS)
    truth = ovr[["application_id", "group_id", "ring_kind", "decoy"]].rename(columns={"group_id": "ring_id"})
    copiers = pd.DataFrame({"application_id": cop, "public_tpl": rng.integers(1, len(synth_plans.PUBLIC_TEMPLATES) + 1, len(cop)),
                            "public_verbatim": rng.random(len(cop)) < 0.5}).astype({"public_tpl": "Int64", "public_verbatim": "boolean"})
    return pd.concat([ovr.drop(columns=["ring_kind", "decoy"]), copiers], ignore_index=True), truth


def _update_applications(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    """Bursts (submitted within hours of the ring's first member, whole timeline shifted) and the
    brokers' edge: some rejected members selected, selected members awarded more (never more than they asked for)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _shift AS
        SELECT o.application_id,
               CASE WHEN o.burst THEN min(a.submitted_at) OVER (PARTITION BY o.group_id, o.burst) + to_microseconds((o.burst_hours * 3.6e9)::BIGINT) - a.submitted_at
                    ELSE INTERVAL 0 SECOND END AS d
        FROM _ovr o JOIN applications a USING (application_id) WHERE o.burst IS NOT NULL""")
    con.execute("""
        UPDATE applications a SET submitted_at = a.submitted_at + s.d, decided_at = a.decided_at + s.d,
               agreed_at = a.agreed_at + s.d, paid_at = a.paid_at + s.d
        FROM _shift s WHERE a.application_id = s.application_id""")
    con.execute("""
        UPDATE applications a SET
            status = 'selected',
            decided_at = coalesce(a.decided_at, a.submitted_at + INTERVAL 30 DAY),
            amount_awarded_krw = CASE WHEN a.status = 'selected' THEN least(coalesce(a.amount_requested_krw, a.amount_awarded_krw), (a.amount_awarded_krw * 1.3)::BIGINT)
                ELSE least(coalesce(a.amount_requested_krw, p.max_award_krw, 50000000), greatest(1000000, (coalesce(a.amount_requested_krw, p.max_award_krw, 50000000) * (0.7 + (mix(a.application_id * 64 + 40) % 30) / 100.0))::BIGINT)) END,
            agreed_at = CASE WHEN a.status = 'selected' THEN a.agreed_at
                ELSE coalesce(a.decided_at, a.submitted_at + INTERVAL 30 DAY) + INTERVAL 10 DAY END,
            paid_at = CASE WHEN a.status = 'selected' THEN a.paid_at
                ELSE coalesce(a.decided_at, a.submitted_at + INTERVAL 30 DAY) + INTERVAL 25 DAY END
        FROM _ovr o, programs p
        WHERE a.application_id = o.application_id AND p.program_id = a.program_id AND o.boost
          AND a.status IN ('selected', 'rejected')""")
    # Agreements and payments after the reference date did not happen yet.
    con.execute("""UPDATE applications SET paid_at = NULL WHERE paid_at > ?::TIMESTAMP
                   AND application_id IN (SELECT application_id FROM _ovr WHERE boost)""", [as_of])
    con.execute("""UPDATE applications SET agreed_at = NULL WHERE agreed_at > ?::TIMESTAMP
                   AND application_id IN (SELECT application_id FROM _ovr WHERE boost)""", [as_of])


def plant(con: duckdb.DuckDBPyConnection, *, seed: int, scale: float,
          progress: Callable[[float, str], None] | None = None) -> None:
    """Write app_fingerprints, business_plans and truth_broker_rings; adjust ring members' applications."""
    say = progress or (lambda f, m: None)
    rng = np.random.default_rng([seed, 8101])
    synth_plans.define_mix(con, seed)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    as_of = meta.get("as_of") or str(con.execute("SELECT max(submitted_at) FROM applications").fetchall()[0][0])
    say(0.0, "브로커 링과 위장 그룹 배치")
    ovr, truth = _groups(con, rng, scale)
    con.register("_ovr_df", ovr)
    con.execute("CREATE OR REPLACE TEMP TABLE _ovr AS SELECT * FROM _ovr_df")
    con.unregister("_ovr_df")
    say(0.03, "링 구성원의 신청 시각과 선정 조정")
    _update_applications(con, as_of)
    con.register("_truth_df", truth)
    con.execute("INSERT INTO truth_broker_rings SELECT application_id, ring_id, ring_kind, decoy FROM _truth_df")
    con.unregister("_truth_df")
    lo, hi = con.execute("SELECT min(application_id), max(application_id) + 1 FROM applications").fetchall()[0]
    n_apps = con.execute("SELECT count(*) FROM applications").fetchall()[0][0]
    pcbangs = max(2, round(20 * scale))
    synth_plans.build_variants(con)
    synth_plans.write_public_templates(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _firm_fp AS {_firm_sql()}")
    say(0.08, "기업별 연락처 생성 완료")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _plan_src AS
        SELECT a.application_id, a.firm_id, f.name AS firm_name, r.short_ko AS region_name,
               {synth_plans.group_case_sql('f.ksic_section')} AS grp, o.tmpl_key, o.tmpl_grp::INTEGER AS tmpl_grp, o.keep_pct,
               o.public_tpl::INTEGER AS public_tpl, coalesce(o.public_verbatim, false) AS public_verbatim
        FROM applications a JOIN firms f USING (firm_id) JOIN regions r ON r.region_code = f.region_code
        LEFT JOIN _ovr o USING (application_id)""")
    chunk = max(1, (hi - lo) * 1_000_000 // max(n_apps, 1))  # ~1 M applications per chunk
    kinds = ("phone", "email", "ip", "device", "bank_account", "address", "doc_author")
    # DuckDB's default tries every compression method on every string segment, which costs more than
    # generating the text (45 s for 1 M plans); FSST alone compresses these as well at a tenth.
    before = con.execute("SELECT current_setting('force_compression')").fetchall()[0][0]
    con.execute("SET force_compression = 'fsst'")
    for start in range(lo, hi, chunk):
        end = min(hi, start + chunk)
        say(0.1 + 0.9 * (start - lo) / (hi - lo), "지문과 사업계획서 생성")
        con.execute(f"""
            INSERT INTO app_fingerprints
            WITH h AS ({_app_sql(pcbangs)} WHERE a.application_id >= {start} AND a.application_id < {end})
            SELECT application_id, kind::fingerprint_kind_t, value FROM (
                SELECT h.application_id, coalesce(o.phone, h.phone) AS phone, coalesce(o.email, h.email) AS email,
                       coalesce(o.ip, h.ip) AS ip, coalesce(o.device, h.device) AS device, h.bank_account, h.address,
                       coalesce(o.doc_author, h.doc_author) AS doc_author
                FROM h LEFT JOIN _ovr o USING (application_id)
            ) UNPIVOT (value FOR kind IN ({', '.join(kinds)}))
            ORDER BY application_id""")   # in intake order, as a real import appends a day (see write_plans)
        say(0.1 + 0.9 * (start - lo + (end - start) / 3) / (hi - lo), "사업계획서 생성")
        synth_plans.write_plans(con, "_plan_src", lo=start, hi=end)
    con.execute(f"SET force_compression = '{before or 'auto'}'")
    say(1.0, "지문과 사업계획서 완료")

"""An independent test set for broker detection, written as files an outside user would import.

    python -m data.synth.outside_rings OUT_DIR [--firms 40000] [--seed 11]

Writes ``OUT_DIR/import/`` (firms, programs, applications, app_fingerprints, business_plans as CSV,
for ``python -m data.load``) and ``OUT_DIR/truth_rings.csv`` beside it (application_id, group_id,
kind, honest), which is never imported: the detector must not see it.

This generator is deliberately *not* built from :mod:`data.synth_fingerprints`; it follows a
description of how brokers (브로커, 제3자 부당개입) and honest related firms behave:

Broker rings (one member = one application of a distinct client firm; 5 to 90 members):

* ``contact_pool``   the broker fills in contact and submission details from a small kit (1-3
  phones, e-mails, IPs, devices); no two members need share the same one; honest plans, no author.
* ``fee_account``    one fee-collecting bank account plus the ghost-writer's (common) name as the
  documents' author; honest plans and the clients' own contacts.
* ``paraphrase``     one template plan, paraphrased (synonyms) and reordered for each client, plus
  the broker's device on some.
* ``slow``           the broker's e-mail pool and a lightly edited template over 18 months.
* ``virtual_office`` straw firms registered at a virtual office (비상주 사무실) whose address also hosts
  honest tenants; the broker's account and devices on most applications.
* ``deadline_rush``  a batch submitted within hours before a deadline from the broker's devices and
  IPs, documents under the ghost-writer's name.
* ``mixed_kit``      a large broker: each application carries two pieces of the kit, picked at random.

Honest look-alikes (must stay unflagged):

* ``family``         2-3 firms of one family at one home (address and phone; half with one
  representative): related firms, to be listed apart.
* ``coworking`` / ``incubator``  tenants share the building address and its Wi-Fi IP.
* ``accountant``     8-30 clients of a small accounting office list its phone and e-mail.
* ``public_pc``      8-30 users of a support desk share its IP and device.
* ``sample_plan``    a published sample plan copied (lightly edited) by hundreds.
* ``franchise``      franchisees submit the head office's plan with their own store details.
* ``help_center``    a public business-support center's consultant helps firms over a year: the
  consultant's name as author and the center's IP (also used by its many walk-in visitors).

Background: firms apply 1-6 times over three years, a tenth change phone, most submit through
mobile-carrier NAT addresses shared by thousands, and authors' names have many namesakes.
"""
from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from data import bizno

RING_KINDS = ("contact_pool", "fee_account", "paraphrase", "slow", "virtual_office", "deadline_rush", "mixed_kit")
HONEST_KINDS = ("family", "coworking", "incubator", "accountant", "public_pc", "sample_plan", "franchise", "help_center")
REGIONS = ("11", "26", "27", "28", "29", "30", "31", "36", "41", "43", "44", "46", "47", "48", "50", "51", "52")
SECTIONS = ("C", "F", "G", "I", "J", "M", "N", "P", "Q", "S")
START = datetime(2023, 1, 2)
DAYS = 3 * 365

_SURNAMES = list("김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예봉경사부황보")
_SURNAME_P = np.array([21.5, 14.7, 8.4, 4.7, 4.3, 2.3, 2.1, 2.0, 1.9, 1.6, 1.5, 1.5, 1.5, 1.5, 1.4, 1.4, 1.3, 1.3, 1.2, 1.1,
                       1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8] + [0.3] * (len(_SURNAMES) - 30))
_GIVEN = ("민준 서준 도윤 예준 시우 하준 주원 지호 지후 준우 준서 건우 현우 우진 선우 서진 민재 현준 연우 유준 정우 승우 승현 시윤 준혁 "
          "은우 지환 승민 지우 유찬 서연 서윤 지우 서현 민서 하은 하윤 윤서 지유 지민 채원 수아 지아 지윤 은서 다은 예은 수빈 소율 "
          "예린 영수 영호 영철 정호 성호 성민 상철 상훈 동현 동훈 재현 재훈 경민 경호 미경 미영 은정 은주 혜진 혜정 수진 수정 지영 지혜 "
          "정민 정희 현정 현주 성진 성훈 기현 기훈 태현 태훈 명수 명철 광수 광호 진호 진우 창민 창호 병철 병수 용수 용호").split()
_GOODS = ("스마트팩토리 솔루션 친환경 포장재 반려동물 간식 수제 맥주 의료기기 부품 드론 촬영 서비스 전기차 충전기 학습 앱 유기농 "
          "화장품 세라믹 필터 물류 로봇 농산물 직거래 플랫폼 한방 차 발효 식품 3D 프린팅 금형 가상현실 교육 콘텐츠 태양광 모듈 "
          "자동차 정비 공구 웨어러블 센서 스마트 조명 수산물 가공 공예품 온라인 쇼핑몰 건강기능식품 반도체 검사장비 실버 돌봄 "
          "로컬 여행 상품 가구 디자인 중고 거래 앱 보안 카메라 인공지능 챗봇 제과 제빵 업사이클링 의류 수경 재배 키트").split()
_WORDS = ("시장 고객 매출 품질 공정 원가 기술 개발 인력 채용 설비 투자 수출 판로 홍보 마케팅 브랜드 특허 인증 시제품 생산 효율 "
          "데이터 자동화 디지털 전환 협력 파트너 지역 거점 유통 온라인 오프라인 구독 서비스 만족도 재구매 경쟁력 차별화 가격 "
          "원자재 납기 불량률 재고 물류 배송 해외 바이어 전시회 상담 계약 성과 목표 일정 예산 자부담 정부지원금 고용 교육 "
          "훈련 안전 환경 탄소 에너지 절감 재활용 소재 부품 모듈 플랫폼 앱 웹 클라우드 보안 분석 예측 추천 맞춤형 소비자 "
          "판매 채널 입점 제휴 프랜차이즈 가맹 점포 매장 리모델링 장비 도입 운영 관리 체계 표준화 국산화 수입대체 "
          "연구 실증 테스트 검증 고도화 확장 진출 현지화 번역 인허가 등록 출원 상표 디자인 포장 라벨 위생 HACCP ISO").split()
_VERBS = ("확대한다 개선한다 구축한다 추진한다 강화한다 도입한다 개발한다 달성한다 확보한다 운영한다 실시한다 마련한다 "
          "고도화한다 절감한다 창출한다 발굴한다 지원한다 완료한다 검토한다 진행한다").split()
# a broker's paraphrase table: the same sentence, a different word
_SYNONYMS = {"확대한다": "늘린다", "개선한다": "향상시킨다", "구축한다": "만든다", "추진한다": "진행한다", "강화한다": "높인다",
             "도입한다": "들여온다", "개발한다": "만든다", "달성한다": "이룬다", "확보한다": "얻는다", "시장": "마켓",
             "고객": "소비자", "매출": "판매액", "품질": "퀄리티", "기술": "테크", "인력": "인원", "수출": "해외판매",
             "홍보": "프로모션", "마케팅": "판촉", "경쟁력": "역량", "목표": "지향점", "성과": "결과", "개발": "연구개발"}


class _Rng(random.Random):
    """Python's generator with numpy's names: per-row draws in the loops below cost a tenth of numpy's."""

    def integers(self, lo: int, hi: int) -> int:
        return self.randrange(lo, hi)

    def normal(self, mu: float, sigma: float) -> float:
        return self.gauss(mu, sigma)

    def exponential(self, scale: float) -> float:
        return self.expovariate(1 / scale)

    def beta(self, a: float, b: float) -> float:
        return self.betavariate(a, b)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Korean person names with realistic namesake rates (김민준 is common, 표은우 is not)."""
    s = rng.choice(_SURNAMES, size=n, p=_SURNAME_P / _SURNAME_P.sum())
    g = rng.choice(_GIVEN, size=n)
    return np.char.add(s.astype(str), g.astype(str))


def _sentence(rng: _Rng) -> str:
    w = rng.choices(_WORDS, k=rng.integers(3, 6))
    return f"{' '.join(w)} {rng.integers(2, 99)}% {rng.choice(_VERBS)}."


def honest_plan(rng: _Rng, firm_name: str) -> str:
    """A firm's own plan: its own product, figures and sentences (unrelated plans share little)."""
    good = " ".join(rng.choices(_GOODS, k=2))
    head = f"{firm_name}은(는) {good} 사업을 영위하며 {rng.integers(2015, 2025)}년 설립 이후 {rng.integers(1, 40)}명이 근무한다."
    return " ".join([head, *(_sentence(rng) for _ in range(rng.integers(8, 14)))])


def paraphrase(rng: _Rng, sentences: list[str], firm_name: str, *, synonyms: float, reorder: bool,
               own: int) -> str:
    """A client's copy of a template: words swapped for synonyms, sentences reordered, the
    firm's name and a few sentences of its own added."""
    out = []
    for s in sentences:
        words = s.split(" ")
        words = [_SYNONYMS.get(w.rstrip("."), w.rstrip(".")) + ("." if w.endswith(".") else "")
                 if rng.random() < synonyms else w for w in words]
        out.append(" ".join(words))
    if reorder:
        rng.shuffle(out)
    for _ in range(own):
        out.insert(int(rng.integers(0, len(out) + 1)), _sentence(rng))
    return f"{firm_name} 사업계획. " + " ".join(out)


@dataclass
class _Kit:
    """A broker's (or an honest group's) shared identifiers, by kind."""

    values: dict[str, list[str]]

    def pick(self, rng: _Rng, kind: str) -> str:
        vs = self.values[kind]
        return vs[int(rng.integers(0, len(vs)))]


class _Ids:
    """Unique identifier values of each kind, in formats an agency's system would record."""

    def __init__(self, rng: _Rng) -> None:
        self.rng, self.n = rng, 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def phone(self) -> str:
        n = self._next()
        return f"010-{(n * 7919) % 9000 + 1000:04d}-{(n * 104729) % 10000:04d}" if n % 3 else f"0{self.rng.integers(2, 65)}-{n % 900 + 100}-{(n * 31) % 10000:04d}"

    def email(self) -> str:
        return f"biz{self._next() * 37 % 1_000_003}@{self.rng.choice(['naver.com', 'gmail.com', 'daum.net', 'hanmail.net', 'kakao.com'])}"

    def ip(self) -> str:
        n = self._next()
        return f"{(n >> 16) % 200 + 20}.{(n >> 8) % 256}.{n % 256}.{self.rng.integers(2, 250)}"

    def device(self) -> str:
        return f"DEV-{self._next() * 2654435761 % (1 << 32):08X}"

    def account(self) -> str:
        n = self._next()
        return f"{self.rng.choice(['110', '302', '1002', '356', '620'])}-{n % 1000:03d}-{n * 7 % 1_000_000:06d}"

    def address(self, region: str) -> str:
        n = self._next()
        return f"{region}-{self.rng.choice(['중앙로', '산업로', '테헤란로', '번영로', '시청로', '대학로'])} {n % 997 + 1}, {n % 30 + 1}층 {n % 17 + 1}호"


def generate(n_firms: int = 40_000, *, seed: int = 11, group_scale: float | None = None
             ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(tables for import, truth). ``group_scale`` scales the number of rings and honest groups
    (default: in proportion to ``n_firms``, 180 rings and 282 groups at 40,000 firms)."""
    rng = np.random.default_rng(seed)
    pr = _Rng(seed)
    ids = _Ids(pr)
    gs = n_firms / 40_000 if group_scale is None else group_scale

    # ---- programs: windows over three years, applications crowd towards the deadline
    n_prog = max(40, n_firms // 200)
    opens = rng.integers(0, DAYS - 60, n_prog)
    closes = opens + rng.integers(20, 60, n_prog)
    programs = pd.DataFrame({
        "program_id": [f"OUT-{i:05d}" for i in range(n_prog)],
        "title": [f"{pr.choice(_GOODS)} 지원사업 {i}" for i in range(n_prog)],
        "ministry": rng.choice(["중소벤처기업부", "산업통상자원부", "과학기술정보통신부", "서울특별시", "경기도"], n_prog),
        "agency": rng.choice(["중소벤처기업진흥공단", "창업진흥원", "정보통신산업진흥원", "지역 테크노파크"], n_prog),
        "category": rng.choice(["금융", "기술", "인력", "수출", "내수", "창업", "경영"], n_prog),
        "opens_on": [(START + timedelta(days=int(d))).date() for d in opens],
        "closes_on": [(START + timedelta(days=int(d))).date() for d in closes],
        "max_award_krw": rng.choice([30, 50, 100, 200], n_prog) * 1_000_000,
        "source": "csv",
    })
    base_rate = rng.uniform(0.15, 0.45, n_prog)

    def submit_time(p: int, near_deadline: bool = False) -> datetime:
        span = int(closes[p] - opens[p])
        d = span - pr.exponential(2.0) if near_deadline else span * (1 - pr.beta(1.0, 2.5))
        d = float(np.clip(d, 0, span - 0.01))
        hour = pr.normal(14, 3) if not near_deadline else pr.uniform(9, 23)
        return START + timedelta(days=int(opens[p]) + int(d), hours=float(np.clip(hour, 0, 23.9)),
                                 minutes=float(pr.integers(0, 60)))

    # ---- firms, each with its own identifiers
    region = rng.choice(REGIONS, n_firms, p=np.array([22, 6, 4, 5, 3, 3, 2, 1, 26, 3, 4, 3, 5, 6, 1, 3, 3]) / 100)
    ceo = _names(rng, n_firms)
    firm_names = [f"{pr.choice(['주식회사 ', '(주)', ''])}{pr.choice(_GOODS)}{pr.choice(['랩', '텍', '코리아', '푸드', '솔루션', '상사', '공방'])}{i}"
                  for i in range(n_firms)]
    firms = pd.DataFrame({
        "firm_id": np.arange(1, n_firms + 1, dtype=np.int64) + 500_000,
        "biz_no": bizno.generate(rng, rng.random(n_firms) < 0.3),
        "name": firm_names,
        "ceo_name": ceo,
        "region_code": region,
        "ksic_section": rng.choice(SECTIONS, n_firms),
        "size_class": rng.choice(["micro", "small", "medium"], n_firms, p=[0.7, 0.25, 0.05]),
        "founded_on": [(START - timedelta(days=int(d))).date() for d in rng.integers(30, 8000, n_firms)],
        "employees": rng.integers(1, 80, n_firms),
        "revenue_krw": rng.integers(50, 20_000, n_firms) * 1_000_000,
    })
    own = {k: [getattr(ids, k if k != "bank_account" else "account")() if k != "address" else ids.address(r)
               for r in region] for k in ("phone", "email", "ip", "device", "bank_account", "address")}
    second_phone = {int(i): ids.phone() for i in np.flatnonzero(rng.random(n_firms) < 0.1)}  # a tenth change phone
    nat = [ids.ip() for _ in range(max(20, n_firms // 400))]  # carrier NAT: hundreds of firms behind one address
    staff = _names(rng, n_firms)  # who writes the firm's documents when the representative does not

    award, prog_ids, firm_ids = programs["max_award_krw"].tolist(), programs["program_id"].tolist(), firms["firm_id"].tolist()
    apps: list[dict] = []
    fps: list[tuple[int, str, str]] = []
    plans: list[tuple[int, str]] = []
    truth: list[tuple[int, int, str, bool]] = []

    def add_app(f: int, *, p: int | None = None, when: datetime | None = None, over: dict[str, str] | None = None,
                plan: str | None = None, drop: tuple[str, ...] = (), uplift: float = 1.0) -> int:
        """One application of firm index ``f`` with its own identifiers, ``over`` replacing some."""
        aid = 1_000_000 + len(apps)
        p = pr.integers(0, n_prog) if p is None else p
        t = submit_time(p) if when is None else when
        sel = pr.random() < min(0.95, base_rate[p] * uplift)
        awarded = int(award[p] * pr.uniform(0.4, 1.0)) // 10_000 * 10_000 if sel else 0
        apps.append({"application_id": aid, "firm_id": firm_ids[f], "program_id": prog_ids[p],
                     "submitted_at": t, "status": "selected" if sel else pr.choice(["rejected", "rejected", "withdrawn"]),
                     "amount_requested_krw": award[p], "amount_awarded_krw": awarded})
        vals = {k: own[k][f] for k in own}
        if f in second_phone and t > START + timedelta(days=DAYS / 2):
            vals["phone"] = second_phone[f]
        if pr.random() < 0.6:
            vals["ip"] = nat[int(pr.integers(0, len(nat)))]
        vals["doc_author"] = str(ceo[f] if pr.random() < 0.6 else staff[f])
        vals.update(over or {})
        for k, v in vals.items():
            if k not in drop and pr.random() < 0.97:  # a field is sometimes left empty
                fps.append((aid, k, v))
        plans.append((aid, plan if plan is not None else honest_plan(pr, firm_names[f])))
        return aid

    free = list(rng.permutation(n_firms))  # firms not yet in a group

    def take(n: int) -> list[int]:
        return [int(free.pop()) for _ in range(n)]

    gid = 0

    def sizes(lo: int, hi: int, count: int) -> list[int]:
        return [int(np.clip(round(np.exp(pr.uniform(np.log(lo), np.log(hi)))), lo, hi)) for _ in range(count)]

    def kit(region_code: str, **n: int) -> _Kit:
        make = {"phone": ids.phone, "email": ids.email, "ip": ids.ip, "device": ids.device, "bank_account": ids.account,
                "address": lambda: ids.address(region_code)}
        return _Kit({k: [make[k]() for _ in range(c)] for k, c in n.items()})

    def n_groups(full: int) -> int:
        return max(3, round(full * gs))

    # ---- broker rings
    ring_counts = {"contact_pool": 30, "fee_account": 30, "paraphrase": 30, "slow": 20, "virtual_office": 25,
                   "deadline_rush": 30, "mixed_kit": 15}
    for kind, full in ring_counts.items():
        for size in sizes(5, 90 if kind == "mixed_kit" else 40, n_groups(full)):
            gid += 1
            members = take(size)
            home = str(region[members[0]])
            k = kit(home, phone=int(pr.integers(1, 4)), email=int(pr.integers(1, 4)), ip=int(pr.integers(1, 4)),
                    device=int(pr.integers(1, 4)), bank_account=1, address=1)
            writer = str(_names(rng, 1)[0])
            template = [_sentence(pr) for _ in range(14)]
            progs = rng.choice(n_prog, size=int(rng.integers(2, 8)))
            rush_prog = int(progs[0])
            rush_at = START + timedelta(days=int(closes[rush_prog]) - 1, hours=float(pr.uniform(8, 16)))
            slow_start = int(pr.integers(0, DAYS - 560))
            if kind == "virtual_office":  # the office also hosts honest tenants, registered there too
                for f in take(int(pr.integers(5, 30))):
                    own["address"][f] = k.values["address"][0]
            for f in members:
                p = int(pr.choice(progs))
                over: dict[str, str] = {}
                plan = None
                when = None
                if kind == "contact_pool":
                    for kd, share in (("phone", 0.85), ("email", 0.8), ("ip", 0.85), ("device", 0.8)):
                        if pr.random() < share:
                            over[kd] = k.pick(pr, kd)
                elif kind == "fee_account":
                    over["bank_account"] = k.pick(pr, "bank_account")
                    if pr.random() < 0.85:
                        over["doc_author"] = writer
                elif kind == "paraphrase":
                    plan = paraphrase(pr, template, firm_names[f], synonyms=0.3, reorder=True, own=int(pr.integers(1, 4)))
                    if pr.random() < 0.5:
                        over["device"] = k.pick(pr, "device")
                elif kind == "slow":
                    plan = paraphrase(pr, template, firm_names[f], synonyms=0.15, reorder=False, own=2)
                    if pr.random() < 0.7:
                        over["email"] = k.pick(pr, "email")
                    if pr.random() < 0.5:
                        over["ip"] = k.pick(pr, "ip")
                    when = START + timedelta(days=slow_start + float(pr.uniform(0, 540)), hours=float(pr.uniform(9, 18)))
                elif kind == "virtual_office":
                    over["address"] = k.values["address"][0]
                    firms.at[f, "founded_on"] = (START + timedelta(days=slow_start - int(pr.integers(30, 200)))).date()
                    if pr.random() < 0.7:
                        over["bank_account"] = k.pick(pr, "bank_account")
                    if pr.random() < 0.7:
                        over["device"] = k.pick(pr, "device")
                elif kind == "deadline_rush":
                    p = rush_prog
                    when = rush_at + timedelta(minutes=float(pr.uniform(0, 360)))
                    over["device"] = k.pick(pr, "device")
                    if pr.random() < 0.7:
                        over["ip"] = k.pick(pr, "ip")
                    if pr.random() < 0.7:
                        over["doc_author"] = writer
                    if pr.random() < 0.5:
                        plan = paraphrase(pr, template, firm_names[f], synonyms=0.4, reorder=True, own=4)
                else:  # mixed_kit: two pieces of the kit per application, whichever
                    for piece in pr.sample(["phone", "email", "ip", "device", "bank_account", "plan", "author"], 2):
                        if piece == "plan":
                            plan = paraphrase(pr, template, firm_names[f], synonyms=0.3, reorder=True, own=2)
                        elif piece == "author":
                            over["doc_author"] = writer
                        else:
                            over[piece] = k.pick(pr, piece)
                aid = add_app(f, p=p, when=when, over=over, plan=plan, uplift=1.5)
                truth.append((aid, gid, kind, False))
                if pr.random() < 0.15:  # a client that comes back through the broker
                    aid = add_app(f, over=over, plan=plan, uplift=1.5)
                    truth.append((aid, gid, kind, False))

    # ---- honest look-alikes
    honest_counts = {"family": 250, "coworking": 6, "incubator": 6, "accountant": 8, "public_pc": 6,
                     "sample_plan": 2, "franchise": 4, "help_center": 4}
    size_range = {"family": (2, 3), "coworking": (15, 120), "incubator": (30, 150), "accountant": (8, 30),
                  "public_pc": (8, 30), "sample_plan": (100, 400), "franchise": (10, 60), "help_center": (10, 40)}
    sample_text = [_sentence(pr) for _ in range(16)]
    for kind, full in honest_counts.items():
        count = n_groups(full) if kind != "family" else max(20, round(full * gs))
        lo, hi = size_range[kind]
        for size in sizes(lo, hi if kind != "sample_plan" else max(lo, int(hi * min(1.0, gs * 2))), count):
            gid += 1
            members = take(size)
            home = str(region[members[0]])
            k = kit(home, phone=1, email=1, ip=1, device=1, address=1)
            consultant = str(_names(rng, 1)[0])
            hq = [_sentence(pr) for _ in range(12)]
            same_ceo = pr.random() < 0.5
            visitors = [] if kind != "help_center" else take(int(pr.integers(40, 120)))
            for f in members:
                if kind == "family":  # one household, its firms' home address and landline
                    for kd in ("address", "phone"):
                        own[kd][f] = k.values[kd][0]
                    if same_ceo:
                        firms.at[f, "ceo_name"] = firms.at[members[0], "ceo_name"]
                        ceo[f] = ceo[members[0]]
                    firms.at[f, "region_code"] = home
                for _ in range(int(pr.integers(1, 4))):
                    over = {}
                    plan = None
                    if kind in ("coworking", "incubator"):
                        over = {"address": k.values["address"][0], "ip": k.values["ip"][0]}
                    elif kind == "accountant":
                        over = {"phone": k.values["phone"][0], "email": k.values["email"][0]}
                    elif kind == "public_pc":
                        over = {"ip": k.values["ip"][0], "device": k.values["device"][0]}
                    elif kind == "sample_plan":
                        plan = paraphrase(pr, sample_text, firm_names[f], synonyms=0.05, reorder=False, own=2)
                    elif kind == "franchise":
                        plan = paraphrase(pr, hq, firm_names[f], synonyms=0.0, reorder=False, own=3)
                    elif kind == "help_center":
                        over = {"ip": k.values["ip"][0]}
                        if pr.random() < 0.8:
                            over["doc_author"] = consultant
                    aid = add_app(f, over=over, plan=plan)
                    truth.append((aid, gid, kind, True))
            for f in visitors:  # walk-in visitors use the center's network for their own applications
                add_app(f, over={"ip": k.values["ip"][0]})

    # ---- everyone else: one to six applications of their own over three years
    for f in free:
        for _ in range(int(pr.choice([1, 1, 1, 2, 2, 3, 4, 6]))):
            add_app(int(f))

    applications = pd.DataFrame(apps)
    tables = {
        "programs": programs,
        "firms": firms,
        "applications": applications,
        "app_fingerprints": pd.DataFrame(fps, columns=["application_id", "kind", "value"]).drop_duplicates(),
        "business_plans": pd.DataFrame(plans, columns=["application_id", "plan_text"]),
    }
    truth_df = pd.DataFrame(truth, columns=["application_id", "group_id", "kind", "honest"])
    return tables, truth_df


def write(out: Path | str, *, n_firms: int = 40_000, seed: int = 11, group_scale: float | None = None) -> tuple[Path, Path]:
    """Write the import folder and the truth file; returns (import dir, truth csv)."""
    out = Path(out)
    imp = out / "import"
    imp.mkdir(parents=True, exist_ok=True)
    tables, truth_df = generate(n_firms, seed=seed, group_scale=group_scale)
    for name, df in tables.items():
        df.to_csv(imp / f"{name}.csv", index=False)
    truth_path = out / "truth_rings.csv"
    truth_df.to_csv(truth_path, index=False)
    return imp, truth_path


def read_truth(path: Path | str) -> pd.DataFrame:
    """The truth file in the shape :func:`analytics.brokers.evaluation.evaluate` takes
    (application_id, ring_id, ring_kind, decoy)."""
    t = pd.read_csv(path)
    return pd.DataFrame({"application_id": t["application_id"], "ring_id": t["group_id"], "ring_kind": t["kind"],
                         "decoy": t["honest"].astype(bool)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data.synth.outside_rings", description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to write import/ and truth_rings.csv into")
    ap.add_argument("--firms", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    imp, truth_path = write(args.out, n_firms=args.firms, seed=args.seed)
    print(f"wrote {imp} (import with `python -m data.load {imp} --db DB`) and {truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

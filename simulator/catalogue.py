"""The simulated billers: fictional but plausible companies, one or two per account type.

Everything here is static description; a user's account at a company is generated from it in
`simulator.accounts`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Company:
    """A company as the Transact UI and the API show it."""

    id: str
    slug: str
    name: str
    account_type: str  # subscription | telecom | policy | loan
    color: str
    logo_url: str
    login_hint: str
    logo_background: str = "#ffffff"


@dataclass(frozen=True)
class Plan:
    title: str
    description: str
    price: float


@dataclass(frozen=True)
class ItemTemplate:
    description: str
    low: float
    high: float


@dataclass(frozen=True)
class SuggestionTemplate:
    category: str
    short: str
    detailed: str  # may use {savings}
    button: str
    low: int
    high: int


@dataclass(frozen=True)
class BundledBill:
    """A bill an account manages for another service (Atomic's glossary: an Apple account that
    manages an Apple TV+ bill and a NY Times bill)."""

    name: str
    price: float
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Biller:
    slug: str
    name: str
    account_type: str
    color: str
    logo_background: str
    login_hint: str
    plans: tuple[Plan, ...]
    items: tuple[ItemTemplate, ...]
    suggestions: tuple[SuggestionTemplate, ...]
    usage: tuple[tuple[str, str], ...]
    actions: tuple[str, ...]
    account_number_digits: int = 12
    # The named bills one account manages; empty for a company that bills only for itself.
    bundled: tuple[BundledBill, ...] = ()

    @property
    def id(self) -> str:
        # Stable across restarts and machines, so host data keeps matching.
        return hashlib.sha256(f"simulator-company:{self.slug}".encode()).hexdigest()[:24]

    @property
    def company(self) -> Company:
        return Company(
            id=self.id,
            slug=self.slug,
            name=self.name,
            account_type=self.account_type,
            color=self.color,
            logo_url=f"{settings.SIMULATOR_PUBLIC_URL}/logos/{self.slug}.svg",
            login_hint=self.login_hint,
            logo_background=self.logo_background,
        )

    @property
    def initials(self) -> str:
        return "".join(word[0] for word in self.name.split()[:2]).upper()


_S = SuggestionTemplate

BILLERS: tuple[Biller, ...] = (
    Biller(
        slug="streamly",
        name="Streamly",
        account_type="subscription",
        color="#6c2bd9",
        logo_background="#14092b",
        login_hint="Email address",
        plans=(
            Plan("Basic with Ads", "Streamly Basic (with ads)", 7.99),
            Plan("Standard", "Streamly Standard, HD, 2 screens", 15.49),
            Plan("Premium", "Streamly Premium, 4K, 4 screens", 22.99),
        ),
        items=(
            ItemTemplate("Sports add-on", 9.99, 9.99),
            ItemTemplate("Extra member slot", 6.99, 7.99),
            ItemTemplate("Movie rental", 3.99, 5.99),
        ),
        suggestions=(
            _S(
                "downgrade-plan",
                "Switch to Standard",
                "Only one or two screens stream at a time on your account. Standard would "
                "save you ${savings} a month.",
                "Switch Plan",
                5,
                8,
            ),
            _S(
                "remove-service",
                "Remove the Sports add-on",
                "You pay for the Sports add-on but have not watched a game in 60 days. "
                "Removing it saves ${savings} monthly.",
                "Remove Now",
                9,
                10,
            ),
            _S(
                "underutilization",
                "Pause while you are away",
                "Nothing was watched in the last 30 days. Pausing saves ${savings} a month.",
                "Pause",
                7,
                16,
            ),
        ),
        usage=(("profile", "Family"), ("profile", "Kids"), ("devices", "3 devices signed in")),
        actions=("change-plan", "pause-plan", "cancel-plan"),
        account_number_digits=16,
    ),
    Biller(
        slug="tunewave",
        name="Tunewave Music",
        account_type="subscription",
        color="#1db9a6",
        logo_background="#06302b",
        login_hint="Username or email",
        plans=(
            Plan("Individual", "Tunewave Individual", 10.99),
            Plan("Duo", "Tunewave Duo, 2 accounts", 14.99),
            Plan("Family", "Tunewave Family, up to 6 accounts", 17.99),
        ),
        items=(
            ItemTemplate("Audiobook hours", 11.99, 11.99),
            ItemTemplate("Lossless audio", 2.99, 2.99),
        ),
        suggestions=(
            _S(
                "redundant-services",
                "You already have music with your phone plan",
                "Your mobile plan includes a music service. Cancelling Tunewave saves "
                "${savings} a month.",
                "Review",
                10,
                18,
            ),
            _S(
                "change-plan",
                "Move to Duo",
                "Only two family members listened this quarter. Duo costs ${savings} less.",
                "Switch Plan",
                3,
                3,
            ),
            _S(
                "costly-feature",
                "Lossless audio on a phone",
                "Lossless audio adds ${savings} but you listen mostly on earbuds.",
                "Turn Off",
                3,
                3,
            ),
        ),
        usage=(("listening", "22 hours last month"), ("members", "4 members")),
        actions=("change-plan", "pause-plan", "cancel-plan"),
        account_number_digits=10,
    ),
    Biller(
        slug="northpeak-mobile",
        name="Northpeak Mobile",
        account_type="telecom",
        color="#0a6cff",
        logo_background="#ffffff",
        login_hint="Phone number or email",
        plans=(
            Plan("5G Start", "5G Start, 10 GB per line", 35.00),
            Plan("5G Plus", "5G Plus, unlimited data", 55.00),
            Plan("5G Max", "5G Max, unlimited premium data and hotspot", 75.00),
        ),
        items=(
            ItemTemplate("Device payment", 18.50, 41.67),
            ItemTemplate("Device protection", 9.00, 17.00),
            ItemTemplate("International pass", 10.00, 10.00),
            ItemTemplate("Taxes and fees", 4.12, 11.80),
        ),
        suggestions=(
            _S(
                "change-plan",
                "Switch to 5G Start",
                "Your lines used under 8 GB each for three months. 5G Start saves "
                "${savings} a month.",
                "Switch Plan",
                15,
                25,
            ),
            _S(
                "costly-feature",
                "Drop device protection on an old phone",
                "One protected phone is over four years old. Removing protection saves "
                "${savings} a month.",
                "Remove",
                9,
                17,
            ),
        ),
        usage=(("data", "6.2 GB of 10 GB"), ("lines", "2 lines")),
        actions=("change-plan", "cancel-plan"),
    ),
    Biller(
        slug="brightline-fiber",
        name="Brightline Fiber",
        account_type="telecom",
        color="#f26a1b",
        logo_background="#2b1204",
        login_hint="Username",
        plans=(
            Plan("Fiber 300", "300 Mbps internet", 49.99),
            Plan("Fiber 1 Gig", "1 Gbps internet", 69.99),
            Plan("Fiber 2 Gig", "2 Gbps internet with Wi-Fi 7 router", 99.99),
        ),
        items=(
            ItemTemplate("Router rental", 10.00, 15.00),
            ItemTemplate("Pay per view", 5.99, 45.89),
            ItemTemplate("Static IP address", 5.00, 5.00),
        ),
        suggestions=(
            _S(
                "downgrade-plan",
                "Fiber 300 covers your usage",
                "Your peak use is under 200 Mbps. Fiber 300 would save ${savings} a month.",
                "Switch Plan",
                20,
                50,
            ),
            _S(
                "alternative-service",
                "Buy your own router",
                "The router rental costs ${savings} a month; a router pays for itself in a year.",
                "Learn More",
                10,
                15,
            ),
        ),
        usage=(("data", "812 GB last month"),),
        actions=("change-plan", "cancel-plan"),
    ),
    Biller(
        slug="harborline-auto",
        name="Harborline Auto Insurance",
        account_type="policy",
        color="#0f4c81",
        logo_background="#e8f0f8",
        login_hint="Policy number or email",
        plans=(
            Plan("Liability Only", "State minimum liability", 62.00),
            Plan("Standard Coverage", "Liability, collision and comprehensive", 118.00),
            Plan("Full Coverage Plus", "Standard plus rental and roadside", 149.00),
        ),
        items=(
            ItemTemplate("Roadside assistance", 4.00, 6.00),
            ItemTemplate("Rental reimbursement", 5.00, 8.00),
            ItemTemplate("Policy fee", 2.00, 3.00),
        ),
        suggestions=(
            _S(
                "costly-feature",
                "Raise your deductible",
                "Moving from a $500 to a $1,000 deductible lowers your premium by "
                "${savings} a month.",
                "Review",
                12,
                24,
            ),
            _S(
                "remove-service",
                "Drop rental reimbursement",
                "You have a second car at home. Removing rental cover saves ${savings} a month.",
                "Remove",
                5,
                8,
            ),
        ),
        usage=(("vehicles", "2 vehicles"), ("drivers", "2 drivers")),
        actions=("change-plan", "cancel-plan"),
        account_number_digits=10,
    ),
    Biller(
        slug="keystone-renters",
        name="Keystone Renters Insurance",
        account_type="policy",
        color="#2f855a",
        logo_background="#ffffff",
        login_hint="Email address",
        plans=(
            Plan("Essentials", "$15,000 personal property", 11.00),
            Plan("Plus", "$30,000 personal property", 17.00),
            Plan("Premier", "$60,000 personal property, replacement cost", 26.00),
        ),
        items=(
            ItemTemplate("Scheduled jewelry", 3.00, 7.00),
            ItemTemplate("Identity protection", 2.50, 2.50),
        ),
        suggestions=(
            _S(
                "common-cancellation",
                "Covered twice?",
                "Your landlord's policy may already cover some of this. Check and save "
                "${savings} a month.",
                "Check",
                11,
                26,
            ),
        ),
        usage=(("property", "1 apartment"),),
        actions=("change-plan", "pause-plan", "cancel-plan"),
        account_number_digits=9,
    ),
    Biller(
        slug="cascade-auto-finance",
        name="Cascade Auto Finance",
        account_type="loan",
        color="#b83280",
        logo_background="#ffffff",
        login_hint="Username or email",
        plans=(
            Plan("60-month loan", "60 months at 7.9% APR", 412.37),
            Plan("72-month loan", "72 months at 8.4% APR", 356.10),
        ),
        items=(
            ItemTemplate("Principal", 280.00, 330.00),
            ItemTemplate("Interest", 60.00, 95.00),
            ItemTemplate("GAP coverage", 12.00, 18.00),
        ),
        suggestions=(
            _S(
                "high-interest-rate",
                "Refinance at a lower rate",
                "Rates for your credit band are near 5.9%. Refinancing could save "
                "${savings} a month.",
                "See Options",
                30,
                60,
            ),
        ),
        usage=(("balance", "$14,208 remaining"), ("term", "38 of 60 payments made")),
        actions=("change-plan", "pause-plan"),
        account_number_digits=11,
    ),
    Biller(
        slug="meridian-student-loans",
        name="Meridian Student Loans",
        account_type="loan",
        color="#c05621",
        logo_background="#fffaf0",
        login_hint="Username",
        plans=(
            Plan("Standard Repayment", "10-year standard repayment", 298.00),
            Plan("Graduated Repayment", "Payments rise every two years", 214.00),
            Plan("Extended Repayment", "25-year extended repayment", 176.00),
        ),
        items=(
            ItemTemplate("Principal", 150.00, 220.00),
            ItemTemplate("Interest", 40.00, 90.00),
        ),
        suggestions=(
            _S(
                "change-plan",
                "Lower your monthly payment",
                "An extended plan would lower your payment by ${savings} a month.",
                "Switch Plan",
                60,
                120,
            ),
            _S(
                "high-interest-rate",
                "Enrol in autopay for a rate cut",
                "Autopay lowers your rate by 0.25%, about ${savings} a month.",
                "Enrol",
                3,
                6,
            ),
        ),
        usage=(("balance", "$23,940 remaining"),),
        actions=("change-plan", "pause-plan"),
        account_number_digits=10,
    ),
)

BILLERS += (
    Biller(
        slug="orchard",
        name="Orchard",
        account_type="subscription",
        color="#1f7a4d",
        logo_background="#eef7f1",
        login_hint="Orchard ID (email)",
        plans=(Plan("Orchard One", "Subscriptions billed through Orchard", 0.0),),
        items=(ItemTemplate("Storage 200 GB", 2.99, 2.99),),
        suggestions=(
            _S(
                "remove-service",
                "Cancel The Morning Ledger",
                "You have not opened The Morning Ledger in 45 days. Cancelling saves "
                "${savings} a month.",
                "Cancel",
                4,
                5,
            ),
        ),
        usage=(("devices", "2 devices signed in"),),
        actions=("cancel-plan",),
        bundled=(
            BundledBill("Orchard TV+", 9.99, ("change-plan", "pause-plan", "cancel-plan")),
            BundledBill("The Morning Ledger", 4.99, ("cancel-plan",)),
        ),
    ),
)

_BY_ID = {biller.id: biller for biller in BILLERS}
_BY_SLUG = {biller.slug: biller for biller in BILLERS}


def biller_by_id(company_id: str) -> Biller | None:
    return _BY_ID.get(company_id)


def biller_by_slug(slug: str) -> Biller | None:
    return _BY_SLUG.get(slug)

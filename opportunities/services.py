"""Every write to opportunities, the pipeline's stages and the scoring weights.

Each function takes its arguments by keyword, the acting user as `actor`; `None` is the system
(automation, commands), which acts with managers' rights and whose events and history name no user.
Who may change an opportunity is decided in opportunities/access.py.

Writes to one opportunity lock its row for the transaction. A stage change can name the stage the
user saw (`from_stage`): when the opportunity has moved since, nothing is written and
OpportunityConflict says where it is now. Every stage change records an event (opportunities/events.py),
which is what the time spent in each stage is measured from.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import require, require_manager
from crm.history import change_reason, set_history_context
from crm.models import field_max_length
from customers.access import can_change_customer
from customers.activity import record_activities
from customers.models import Customer
from customers.services import mark_active
from opportunities import events
from opportunities.access import require_change_opportunity
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine, ScoringWeights, Stage
from orders.models import ZERO, Product
from orders.models import Status as OrderStatus
from orders.services import MAX_AMOUNT, create_order, won_order_fields
from summaries.upkeep import count_deals, uncount_deals

SCORE_FIELDS = {f"score_{factor}" for factor in Opportunity.SCORE_FACTORS}
BANT_FIELDS = {f"{item}_{suffix}" for item in Opportunity.BANT for suffix in ("confirmed", "note")}
OPPORTUNITY_FIELDS = {
    "title",
    "amount",
    "probability",
    "expected_close_date",
    "source",
    "description",
    *SCORE_FIELDS,
    *BANT_FIELDS,
}
CENT = Decimal("0.01")


class OpportunityConflict(ValidationError):
    """Someone else moved the opportunity since the user saw it; nothing was written."""

    def __init__(self, opportunity: Opportunity) -> None:
        self.current_stage = opportunity.stage
        super().__init__(
            _(
                "Someone else moved this opportunity meanwhile: it is now in “%(stage)s”. "
                "Nothing was changed; check it and try again."
            )
            % {"stage": opportunity.stage.name},
            code="conflict",
        )


# Scoring


def weighted_sum(weights: Mapping[str, Any], scores: Mapping[str, Any]) -> Any:
    """V = w_s·S + w_c·C + w_l·L + w_r·R, from dicts keyed by factor.

    The one formula of the value score: with numbers it gives a number, with F() expressions the
    SQL that recomputes every stored score at once.
    """
    return sum(weights[factor] * scores[factor] for factor in Opportunity.SCORE_FACTORS)


def value_score(opportunity: Opportunity, weights: ScoringWeights) -> Decimal:
    scores = {factor: getattr(opportunity, f"score_{factor}") for factor in Opportunity.SCORE_FACTORS}
    return Decimal(weighted_sum(weights.as_dict(), scores)).quantize(CENT)


def validate_weights(weights: Mapping[str, Decimal | None]) -> None:
    """Each weight between 0 and 1 with at most two decimals, and together exactly 1."""
    errors: dict[str, str] = {}
    for factor in Opportunity.SCORE_FACTORS:
        weight = weights.get(factor)
        if weight is None or not ZERO <= weight <= 1 or weight != weight.quantize(CENT):
            errors[factor] = _("Enter a weight between 0 and 1 with at most two decimals, such as 0.25.")
    if errors:
        raise ValidationError(errors)
    total = sum(weights[factor] or ZERO for factor in Opportunity.SCORE_FACTORS)
    if total != 1:
        raise ValidationError(
            _("The weights add up to %(total)s; they must add up to exactly 1.") % {"total": total},
            code="weights_sum",
        )


@transaction.atomic
def update_scoring_weights(*, actor: User | None, **weights: Any) -> ScoringWeights:
    """Managers set the value-score weights; every opportunity's stored score follows at once."""
    require_manager(actor)
    weights = {factor: Decimal(str(weights[factor])) for factor in Opportunity.SCORE_FACTORS}
    validate_weights(weights)
    row = ScoringWeights.current()
    for factor, weight in weights.items():
        setattr(row, factor, weight)
    set_history_context(row, user=actor)
    row.save()
    scores = {factor: F(f"score_{factor}") for factor in Opportunity.SCORE_FACTORS}
    formula = ExpressionWrapper(
        weighted_sum(weights, scores), output_field=DecimalField(max_digits=5, decimal_places=2)
    )
    Opportunity.objects.update(value_score=formula)
    return row


# The pipeline's stages

STAGE_FIELDS = {"code", "name_en", "name_zh_hans", "position", "probability", "kind"}
FIXED_ONCE_USED = {"code", "kind"}  # opportunities rely on a stage's kind, integrations on its code


def stage_in_use(stage: Stage) -> bool:
    """Whether opportunities are, or have been, in the stage."""
    return stage.pk is not None and (
        stage.opportunities.exists() or OpportunityEvent.objects.filter(to_stage=stage).exists()
    )


def _save_stage(stage: Stage, fields: Mapping[str, Any]) -> Stage:
    unknown = set(fields) - STAGE_FIELDS
    if unknown:
        raise TypeError(f"unknown stage fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(stage, name, " ".join(value.split()) if isinstance(value, str) else value)
    stage.full_clean()
    stage.save()
    return stage


@transaction.atomic
def create_stage(*, actor: User | None, **fields: Any) -> Stage:
    """A new stage of the pipeline (managers only)."""
    require_manager(actor)
    return _save_stage(Stage(), fields)


@transaction.atomic
def update_stage(*, actor: User | None, stage: Stage, **fields: Any) -> Stage:
    """Rename, reorder or re-weigh a stage (managers only); its code and kind stay once it is used."""
    require_manager(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    fixed = {name for name in FIXED_ONCE_USED if name in fields and fields[name] != getattr(stage, name)}
    if fixed and stage_in_use(stage):
        message = _("Opportunities have been in this stage: this can no longer be changed.")
        raise ValidationError(dict.fromkeys(sorted(fixed), message))
    return _save_stage(stage, fields)


# Who may do what


def _owner_for(actor: User | None, customer: Customer, owner: User | None) -> User:
    """The customer's owner works the opportunity unless a manager gives it to someone else."""
    if owner is None:
        return customer.owner
    if owner.pk != customer.owner_id:
        require_manager(actor)
    return owner


def _locked(actor: User | None, opportunity: Opportunity, from_stage: Stage | None = None) -> Opportunity:
    """The opportunity as committed now, its row locked until the transaction ends.

    The row is locked on its own, then read with its joins: PostgreSQL re-checks a locked row that
    someone changed meanwhile against joined rows as they were (its old stage, no order) and would
    drop it, so the loser of a race would get no row instead of the current one.
    """
    Opportunity.objects.select_for_update().filter(pk=opportunity.pk).values_list("pk").get()
    current = Opportunity.objects.select_related("stage", "customer", "order").get(pk=opportunity.pk)
    require_change_opportunity(actor, current)
    if from_stage is not None and current.stage_id != from_stage.pk:
        raise OpportunityConflict(current)
    return current


def _stage_of_kind(kind: str, stages: Sequence[Stage] | None = None) -> Stage:
    """The first stage of `kind`, from `stages` (all of them, in order) when the caller has read them."""
    if stages is None:
        stage = Stage.objects.filter(kind=kind).first()
    else:
        stage = next((stage for stage in stages if stage.kind == kind), None)
    if stage is None:
        raise ValidationError(
            _("No “%(kind)s” stage is configured: a manager must add one in the admin.")
            % {"kind": Stage.Kind(kind).label}
        )
    return stage


def first_open_stage() -> Stage:
    return _stage_of_kind(Stage.Kind.OPEN)


# Fields and lines


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - OPPORTUNITY_FIELDS
    if unknown:
        raise TypeError(f"unknown opportunity fields: {sorted(unknown)}")
    cleaned = dict(fields)
    for name, value in fields.items():
        if isinstance(value, str):
            cleaned[name] = value.strip() if name == "description" else " ".join(value.split())
    return cleaned


def _new_lines(opportunity: Opportunity, lines: Sequence[Mapping[str, Any]]) -> list[OpportunityLine]:
    """Unsaved, validated lines from dicts of product, quantity and unit_price (default: the product's).

    Errors are keyed lines-<index>-<field>, so a form can show each next to its field.
    """
    prepared: list[OpportunityLine] = []
    errors: dict[str, list[str]] = {}
    kept_products = set(opportunity.lines.values_list("product_id", flat=True)) if opportunity.pk else set()
    for index, spec in enumerate(lines):
        line_errors: dict[str, list[str]] = {}
        try:
            prepared.append(_new_line(opportunity, index, kept_products, **spec))
        except ValidationError as error:
            line_errors = error.message_dict
        for field, messages in line_errors.items():
            errors[f"lines-{index}-{field}"] = messages
    if errors:
        raise ValidationError(errors)
    return prepared


def _new_line(
    opportunity: Opportunity,
    index: int,
    kept_products: set[int],
    *,
    product: Product | None = None,
    quantity: Any = None,  # as typed: validated here
    unit_price: Decimal | None = None,
) -> OpportunityLine:
    if product is None:
        raise ValidationError({"product": [_("Choose a product.")]})
    line = OpportunityLine(
        opportunity=opportunity,
        position=index,
        product=product,
        quantity=quantity,
        unit_price=product.unit_price if unit_price is None else unit_price,
    )
    errors: dict[str, list[str]] = {}
    if not product.active and product.pk not in kept_products:
        errors["product"] = [_("“%(product)s” is no longer sold.") % {"product": product}]
    if not quantity or quantity < 1:
        errors["quantity"] = [_("The quantity must be at least 1.")]
    elif line.unit_price < 0:
        errors["unit_price"] = [_("The unit price cannot be negative.")]
    elif line.total > MAX_AMOUNT:
        errors["quantity"] = [_("This line's amount is too large.")]
    if errors:
        raise ValidationError(errors)
    return line


def _lines_total(lines: Iterable[OpportunityLine]) -> Decimal:
    total = sum((line.total for line in lines), ZERO)
    if total > MAX_AMOUNT:
        raise ValidationError({"amount": _("The lines add up to more than an amount can hold.")})
    return total


def _validate(opportunity: Opportunity) -> None:
    opportunity.full_clean(exclude=["customer", "owner", "stage"], validate_constraints=False)


def _prepare(
    opportunity: Opportunity,
    lines: Sequence[Mapping[str, Any]] | None,
    weights: ScoringWeights | None = None,
) -> list[OpportunityLine] | None:
    """Validates the fields and the new lines together; sets the amount and the value score from them.

    `lines` None keeps the saved lines (prefetch them to read them without a query). With lines, the
    amount is their total. `weights`: the scoring weights when the caller has read them already.
    """
    errors: dict[str, Any] = {}
    new_lines = None
    if lines is not None:
        try:
            new_lines = _new_lines(opportunity, lines)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if new_lines:
        opportunity.amount = _lines_total(new_lines)
    elif new_lines is None and opportunity.pk and opportunity.lines.exists():
        opportunity.amount = _lines_total(opportunity.lines.all())
    if opportunity.amount is None:
        errors.setdefault("amount", []).append(
            ValidationError(_("Enter the expected amount, or add the products of interest."))
        )
    try:
        _validate(opportunity)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    opportunity.value_score = value_score(opportunity, weights or ScoringWeights.current())
    return new_lines


def _just(opportunity: Opportunity) -> QuerySet[Opportunity]:
    """The opportunity as a queryset: what the summaries count (summaries.upkeep)."""
    return Opportunity.objects.filter(pk=opportunity.pk)


def _save(opportunity: Opportunity, actor: User | None, reason: str | None = None) -> None:
    set_history_context(opportunity, user=actor, reason=reason)
    opportunity.save()


# Creating and editing


@transaction.atomic
def create_opportunity(
    *,
    actor: User | None,
    customer: Customer,
    stage: Stage | None = None,
    owner: User | None = None,
    lines: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> Opportunity:
    """A new opportunity for `customer`, in `stage` (default: the first open stage).

    `lines` is a sequence of dicts with product, quantity and optionally unit_price; with lines the
    amount is their total. The probability defaults to the stage's. Raises ValidationError keyed by
    field (lines-<index>-<field> for the lines) before writing anything.
    """
    require(
        can_change_customer(actor, customer), _("You may only create opportunities for your own customers.")
    )
    stage = stage or first_open_stage()
    if not stage.is_open:
        raise ValidationError(
            {"stage": _("A new opportunity starts in an open stage; win or lose it afterwards.")}
        )
    fields = _clean_fields(fields)
    if fields.get("probability") is None:
        fields["probability"] = stage.probability
    opportunity = Opportunity(
        customer=customer, owner=_owner_for(actor, customer, owner), stage=stage, **fields
    )
    new_lines = _prepare(opportunity, list(lines)) or []
    opportunity.stage_entered_at = timezone.now()
    _save(opportunity, actor)
    OpportunityLine.objects.bulk_create(new_lines)
    count_deals(_just(opportunity))
    events.opportunity_created(opportunity=opportunity, actor=actor)
    return opportunity


@transaction.atomic
def update_opportunity(
    *,
    actor: User | None,
    opportunity: Opportunity,
    lines: Sequence[Mapping[str, Any]] | None = None,
    owner: User | None = None,
    **fields: Any,
) -> Opportunity:
    """Change an open opportunity's details; `lines`, when given, replace its lines.

    The stage changes only through move_stage, mark_won, mark_lost and reopen.
    """
    current = _locked(actor, opportunity)
    if not current.stage.is_open:
        raise ValidationError(_("A won or lost opportunity cannot be changed; reopen it first."))
    uncount_deals(_just(current))
    for name, value in _clean_fields(fields).items():
        setattr(current, name, value)
    old_owner = current.owner
    if owner is not None:
        current.owner = _owner_for(actor, current.customer, owner)
    new_lines = _prepare(current, None if lines is None else list(lines))
    _save(current, actor, change_reason("lines_changed") if new_lines is not None else None)
    if new_lines is not None:
        current.lines.all().delete()
        OpportunityLine.objects.bulk_create(new_lines)
    if current.owner_id != old_owner.pk:
        events.owner_changed(opportunity=current, actor=actor, old_owner=old_owner)
    count_deals(_just(current))
    return current


# The pipeline


def _enter(opportunity: Opportunity, stage: Stage, actor: User | None, reason: str | None) -> Stage:
    """Puts the opportunity into `stage` at its default probability; returns the stage it left.

    The caller has taken the opportunity out of the summaries (uncount_deals) before changing it, and
    records the event that says why."""
    from_stage = opportunity.stage
    opportunity.stage, opportunity.stage_entered_at = stage, timezone.now()
    opportunity.probability = stage.probability
    _save(opportunity, actor, reason)
    count_deals(_just(opportunity))
    return from_stage


def _require_open(opportunity: Opportunity) -> None:
    if not opportunity.stage.is_open:
        raise ValidationError(
            _("This opportunity is already “%(stage)s”: reopen it first.")
            % {"stage": opportunity.stage.name},
            code="closed",
        )


@transaction.atomic
def move_stage(
    *,
    actor: User | None,
    opportunity: Opportunity,
    stage: Stage,
    note: str = "",
    from_stage: Stage | None = None,
) -> Opportunity:
    """Move an open opportunity to another open stage; its probability becomes the stage's default.

    Moving to the stage it is in changes nothing and records nothing.
    """
    current = _locked(actor, opportunity, from_stage)
    _require_open(current)
    if not stage.is_open:
        raise ValidationError(_("Win or lose the opportunity to close it."), code="closing_stage")
    if stage.pk == current.stage_id:
        return current
    uncount_deals(_just(current))
    from_stage = _enter(current, stage, actor, change_reason("stage_moved"))
    events.stage_moved(opportunity=current, actor=actor, from_stage=from_stage, note=(note or "").strip())
    return current


def _order_lines(opportunity: Opportunity) -> list[OpportunityLine]:
    lines = list(opportunity.lines.select_related("product"))
    if not lines:
        raise ValidationError(
            _("Add the products of interest before winning: the order is made from them."), code="no_lines"
        )
    return lines


def _order_problems(error: ValidationError, lines: Sequence[OpportunityLine]) -> list[str]:
    """create_order's refusal, as sentences a salesperson can act on."""
    problems: list[str] = []
    for key, messages in error.message_dict.items():
        if key.startswith("lines-"):
            line = lines[int(key.split("-")[1])]
            prefix = _("Line %(number)s (%(product)s)") % {
                "number": line.position + 1,
                "product": line.product,
            }
            problems += [f"{prefix}: {message}" for message in messages]
        else:
            problems += messages
    return problems


@transaction.atomic
def mark_won(
    *, actor: User | None, opportunity: Opportunity, note: str = "", from_stage: Stage | None = None
) -> Opportunity:
    """Win an open opportunity: its lines become an order (customer, products, quantities, prices),
    linked both ways, in the same transaction. When the order cannot be made, nothing is written and
    the ValidationError says why."""
    current = _locked(actor, opportunity, from_stage)
    _require_open(current)
    won = _stage_of_kind(Stage.Kind.WON)
    lines = _order_lines(current)
    note = (note or "").strip()
    try:
        order = create_order(
            actor=actor,
            customer=current.customer,
            owner=current.owner,  # the deal's owner wins it, whoever owns the customer
            lines=[
                {"product": ln.product, "quantity": ln.quantity, "unit_price": ln.unit_price} for ln in lines
            ],
            note=note,
            opportunity=current,
            **won_order_fields(current.customer),
        )
    except ValidationError as error:
        raise ValidationError(
            [
                _("The order could not be created, so the opportunity is not won:"),
                *_order_problems(error, lines),
            ],
            code="order_refused",
        ) from None
    uncount_deals(_just(current))
    current.order, current.won_at = order, timezone.now()
    from_stage = _enter(current, won, actor, change_reason("won", order_number=order.number))
    events.opportunity_won(opportunity=current, actor=actor, from_stage=from_stage, note=note)
    mark_active(actor=actor, customer=current.customer, reason="active_by_deal")
    return current


@transaction.atomic
def mark_lost(
    *, actor: User | None, opportunity: Opportunity, reason: str, from_stage: Stage | None = None
) -> Opportunity:
    """Lose an open opportunity, always saying why."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say why the opportunity was lost.")})
    if len(reason) > field_max_length(Opportunity, "lost_reason"):
        raise ValidationError({"reason": _("Keep the reason under 300 characters.")})
    current = _locked(actor, opportunity, from_stage)
    _require_open(current)
    lost = _stage_of_kind(Stage.Kind.LOST)
    uncount_deals(_just(current))
    current.lost_at, current.lost_reason = timezone.now(), reason
    from_stage = _enter(current, lost, actor, change_reason("lost"))
    events.opportunity_lost(opportunity=current, actor=actor, from_stage=from_stage)
    return current


def stage_before_closing(opportunity: Opportunity) -> Stage:
    """The open stage the opportunity was in when it was won or lost (default: the first open stage)."""
    event = (
        opportunity.events.filter(to_stage=opportunity.stage, from_stage__isnull=False)
        .select_related("from_stage")
        .first()
    )
    if event and event.from_stage and event.from_stage.is_open:
        return event.from_stage
    return first_open_stage()


def reopen_problem(opportunity: Opportunity) -> str | None:
    """Why a closed opportunity cannot be reopened yet, or None: a won one's order must be closed."""
    order = opportunity.order
    if order is not None and order.status != OrderStatus.CLOSED:
        return _(
            "Its order %(number)s is “%(status)s”: close the order before reopening the opportunity."
        ) % {
            "number": order.number,
            "status": order.get_status_display(),
        }
    return None


@transaction.atomic
def reopen(
    *, actor: User | None, opportunity: Opportunity, stage: Stage | None = None, note: str = ""
) -> Opportunity:
    """Back into the pipeline (default: the stage it left when it closed).

    A won opportunity reopens only once its order has been closed; the order is then unlinked, and the
    event names it, so that winning it again makes a new order.
    """
    current = _locked(actor, opportunity)
    if current.stage.is_open:
        raise ValidationError(_("This opportunity is open already."), code="open")
    stage = stage or stage_before_closing(current)
    if not stage.is_open:
        raise ValidationError({"stage": _("Choose an open stage to reopen it in.")})
    problem = reopen_problem(current)
    if problem:
        raise ValidationError(problem, code="order_open")
    uncount_deals(_just(current))
    unlinked_order, current.order = current.order, None
    current.won_at, current.lost_at, current.lost_reason = None, None, ""
    from_stage = _enter(current, stage, actor, change_reason("reopened"))
    events.opportunity_reopened(
        opportunity=current,
        actor=actor,
        from_stage=from_stage,
        unlinked_order=unlinked_order,
        note=(note or "").strip(),
    )
    return current


# Moving in: deals with their history from another system

OUTCOMES = ("open", "won", "lost")
DealResult = tuple[Opportunity, bool] | ValidationError | PermissionDenied


def _historical_errors(created_at: datetime, outcome: str, closed_at: datetime | None) -> dict[str, str]:
    now = timezone.now()
    errors: dict[str, str] = {}
    if created_at > now:
        errors["created_at"] = _("A deal imported with its history cannot be created in the future.")
    if outcome not in OUTCOMES:
        errors["outcome"] = _("Write open, won or lost.")
    elif outcome != "open" and closed_at is None:
        errors["closed_at"] = _("A won or lost deal needs the time it was won or lost.")
    elif closed_at is not None and not created_at <= closed_at <= now:
        errors["closed_at"] = _("It was won or lost between its creation and now.")
    return errors


def import_deal(*, actor: User | None, **spec: Any) -> tuple[Opportunity, bool]:
    """One deal brought from another system with its history (import_deals, for one spec); raises the
    ValidationError or PermissionDenied that refuses it."""
    [result] = import_deals(actor=actor, specs=[spec])
    if isinstance(result, (ValidationError, PermissionDenied)):
        raise result
    return result


@transaction.atomic
def import_deals(*, actor: User | None, specs: Sequence[Mapping[str, Any]]) -> list[DealResult]:
    """Deals brought from another system with their history, each spec a dict of:

    customer, created_at, outcome ("open", "won" or "lost"), closed_at (when won or lost), lost_reason,
    owner (default: the customer's owner; someone else only as a manager), external_id, stage (the open
    stage it is in, or was in when it closed; default: the first open stage), stage_reached_at (when it
    reached that stage; default: its creation), and the fields of create_opportunity (title, amount, …).

    A new deal is created at `created_at` in the first open stage, moved to `stage` at
    `stage_reached_at`, and won or lost at `closed_at`: its events are the pipeline's (events.py) and
    carry those times, so cycle times, the funnel and the reports read the deal's real history. A won
    deal imported this way has no order (its orders come with the order import).

    A spec whose `external_id` the system already has (or an earlier spec of the same call has) updates
    that deal's fields (title, amount, …) instead, for one who may change it; its outcome, stages and
    times stay as first imported.

    Returns, for each spec in order, (the opportunity, whether it is new), or the ValidationError or
    PermissionDenied that refused it; a refused spec writes nothing. What the specs need is read once
    per call (stages, weights, the deals of their external ids) and the deals, their history, events
    and their customers' last activity are written a few statements for all, so the number of queries
    does not grow with the number of specs. Should the database refuse the new deals together (a
    constraint the validation does not see, a concurrent import of the same external id), they are
    inserted one by one, and each one it refuses is reported with its error.
    """
    batch = _DealBatch(actor, specs)
    results: list[DealResult] = []
    for index, spec in enumerate(specs):
        try:
            results.append(batch.add(index, **spec))
        except (ValidationError, PermissionDenied) as error:
            results.append(error)
    batch.save_updates()
    for index, refusal in batch.insert_new().items():
        results[index] = refusal
    return results


class _NewDeal:
    """A deal to insert, with its creation time (the insert stamps its own) and its events."""

    def __init__(self, index: int, opportunity: Opportunity, created_at: datetime) -> None:
        self.index = index  # of its spec
        self.opportunity = opportunity
        self.created_at = created_at
        self.events: list[OpportunityEvent] = []

    def unsaved(self) -> None:
        """As before an insert that was rolled back: no ids, the events linked to the unsaved deal."""
        self.opportunity.pk = None
        for event in self.events:
            event.pk = None
            event.opportunity = self.opportunity


class _DealBatch:
    """One import_deals call: what it read once, the deals it inserts and those it updates."""

    def __init__(self, actor: User | None, specs: Sequence[Mapping[str, Any]]) -> None:
        self.actor = actor
        self.stages = list(Stage.objects.all())
        self.weights = ScoringWeights.current()
        external_ids = {spec.get("external_id", "") for spec in specs} - {""}
        self.deals: dict[str, Opportunity] = {}  # by external id, saved or to insert
        if external_ids:
            # Excluding "" lets PostgreSQL use the unique index of external ids, which leaves "" out.
            known = Opportunity.objects.exclude(external_id="").filter(external_id__in=external_ids)
            known = known.select_related("customer", "stage").prefetch_related("lines")
            self.deals = {deal.external_id: deal for deal in known}
        self.new: list[_NewDeal] = []
        self.updated: dict[int, Opportunity] = {}  # saved deals whose fields change, by id
        self.updated_fields: set[str] = set()

    def add(
        self,
        index: int,
        *,
        customer: Customer,
        created_at: datetime,
        outcome: str = "open",
        closed_at: datetime | None = None,
        lost_reason: str = "",
        owner: User | None = None,
        external_id: str = "",
        stage: Stage | None = None,
        stage_reached_at: datetime | None = None,
        **fields: Any,
    ) -> tuple[Opportunity, bool]:
        require(
            can_change_customer(self.actor, customer), _("You may only import deals of your own customers.")
        )
        fields = _clean_fields(fields)
        known = self.deals.get(external_id) if external_id else None
        if known is not None:
            return self._update(known, fields), False
        reason = " ".join(lost_reason.split())
        errors = _historical_errors(created_at, outcome, closed_at)
        first = _stage_of_kind(Stage.Kind.OPEN, self.stages)
        stage = stage or first
        reached_at = stage_reached_at or created_at
        if not stage.is_open:
            errors["stage"] = _("Choose an open stage: the outcome says whether it was won or lost.")
        elif (
            stage_reached_at and not errors and not created_at <= reached_at <= (closed_at or timezone.now())
        ):
            errors["stage_reached_at"] = _("It reached its stage between its creation and its closing.")
        if outcome == "lost" and not reason:
            errors["lost_reason"] = _("Say why the deal was lost.")
        if errors:
            raise ValidationError(errors)
        closing = None if outcome == "open" else _stage_of_kind(outcome, self.stages)
        fields.setdefault("probability", stage.probability)
        opportunity = Opportunity(
            customer=customer,
            owner=_owner_for(self.actor, customer, owner),
            stage=stage,
            stage_entered_at=reached_at,
            external_id=external_id,
            created_at=created_at,
            **fields,
        )
        _prepare(opportunity, None, self.weights)
        new = _NewDeal(index, opportunity, created_at)
        new.events.append(
            events.opportunity_created(
                opportunity=opportunity, actor=self.actor, at=created_at, stage=first, commit=False
            )
        )
        if stage != first:
            new.events.append(
                events.stage_moved(
                    opportunity=opportunity,
                    actor=self.actor,
                    from_stage=first,
                    at=reached_at,
                    stage=stage,
                    commit=False,
                )
            )
        if closing is not None and closed_at is not None:
            self._close(new, closing, closed_at, reason)
        self.new.append(new)
        if external_id:
            self.deals[external_id] = opportunity
        return opportunity, True

    def _close(self, new: _NewDeal, closing: Stage, closed_at: datetime, reason: str) -> None:
        opportunity, from_stage = new.opportunity, new.opportunity.stage
        opportunity.stage, opportunity.stage_entered_at = closing, closed_at
        opportunity.probability = closing.probability
        record: Callable[..., OpportunityEvent] = events.opportunity_won
        if closing.kind == Stage.Kind.WON:
            opportunity.won_at = closed_at
        else:
            opportunity.lost_at, opportunity.lost_reason = closed_at, reason
            record = events.opportunity_lost
        new.events.append(
            record(
                opportunity=opportunity,
                actor=self.actor,
                from_stage=from_stage,
                at=closed_at,
                stage=closing,
                commit=False,
            )
        )

    def _update(self, deal: Opportunity, fields: dict[str, Any]) -> Opportunity:
        require_change_opportunity(self.actor, deal)
        changed = {name: value for name, value in fields.items() if getattr(deal, name) != value}
        if not changed:
            return deal
        before = {name: getattr(deal, name) for name in changed}
        for name, value in changed.items():
            setattr(deal, name, value)
        try:
            _prepare(deal, None, self.weights)
        except ValidationError:
            for name, value in before.items():  # as it was: a later spec may update it again
                setattr(deal, name, value)
            raise
        if deal.pk is not None:  # a deal of this call is inserted with its latest fields
            self.updated[deal.pk] = deal
            self.updated_fields |= changed.keys()
        return deal

    def save_updates(self) -> None:
        """Write the saved deals' changed fields, with their history."""
        deals = list(self.updated.values())
        if not deals:
            return
        now = timezone.now()
        for deal in deals:
            deal.updated_at = now
        Opportunity.objects.bulk_update(deals, [*self.updated_fields, "amount", "updated_at", "value_score"])
        Opportunity.history.bulk_history_create(
            deals, update=True, default_user=self.actor, default_change_reason=change_reason("imported")
        )

    def insert_new(self) -> dict[int, ValidationError]:
        """Insert the new deals; returns the refusals of the database by spec index (none, usually)."""
        if not self.new:
            return {}
        refusals: dict[int, ValidationError] = {}
        # One savepoint around the inserts: the import calls this for every few hundred rows of one
        # transaction, and PostgreSQL slows down with many savepoints.
        if connection.features.can_return_rows_from_bulk_insert:  # the events need the new ids
            try:
                with transaction.atomic():
                    _insert_deals(self.actor, self.new)
                return refusals
            except IntegrityError:
                for new in self.new:
                    new.unsaved()
        for new in self.new:
            try:
                with transaction.atomic():
                    _insert_deals(self.actor, [new])
            except IntegrityError as error:
                new.unsaved()
                reason = str(error).splitlines()[0]
                refusals[new.index] = ValidationError(
                    _("The database refused this deal: %(error)s") % {"error": reason}
                )
        return refusals


def _insert_deals(actor: User | None, new: Sequence[_NewDeal]) -> None:
    """Insert the deals, their history, their events and their customers' last activity."""
    deals = Opportunity.objects.bulk_create([deal.opportunity for deal in new])
    for deal in new:  # the insert stamped the time of the import
        deal.opportunity.created_at = deal.created_at
    Opportunity.objects.bulk_update(deals, ["created_at"])
    count_deals(Opportunity.objects.filter(pk__in=[deal.pk for deal in deals]))
    history = OpportunityEvent.objects.bulk_create([event for deal in new for event in deal.events])
    Opportunity.history.bulk_history_create(
        deals, default_user=actor, default_change_reason=change_reason("imported")
    )
    latest: dict[int, datetime] = {}
    for event in history:
        customer_id = event.opportunity.customer_id
        latest[customer_id] = max(event.at, latest.get(customer_id, event.at))
    record_activities(latest)

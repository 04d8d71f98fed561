"""Writes of experiments and the shop's search settings: the admin and the staff API both
come through here.

Experiments are for shop staff only (superusers, or the ``manage_experiments`` permission): a
variant changes the ranking of every merchant's products, so no one merchant may run one.
Every write forgets this process's cached settings (hooks.py); other processes reload them
within MERCHANDISING_RULES_REFRESH_MS.
"""

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from merchandising.experiments import hooks
from merchandising.experiments.models import Experiment, SearchSettings, SettingsFields, Variant
from merchandising.experiments.validation import raise_if, settings_errors, variants_errors

SETTINGS_FIELDS = (
    "weight_image",
    "weight_text",
    "weight_keywords",
    "rrf_k",
    "rerank",
    "rules",
    "image_collection",
)
VARIANT_FIELDS = ("name", "share", *SETTINGS_FIELDS)


def can_manage_experiments(user) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.has_perm("merchandising.manage_experiments"))
    )


def _require(user) -> None:
    if not can_manage_experiments(user):
        raise PermissionDenied("Search experiments and settings are for shop staff.")


def search_settings_get() -> SearchSettings:
    settings_row, _ = SearchSettings.objects.get_or_create(pk=1)
    return settings_row


def _check_variants(variants: Sequence[Variant]) -> None:
    errors = dict(variants_errors(variants))
    for index, variant in enumerate(variants):
        for name, message in settings_errors(variant).items():
            errors[f"variants[{index}].{name}"] = message
        try:
            variant.full_clean(exclude=["experiment"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[f"variants[{index}].{name}"] = " ".join(messages)
    raise_if(errors)


@transaction.atomic
def experiment_create(
    *, user, name: str, variants: Sequence[dict], description: str = "", metric: str = "ctr"
) -> Experiment:
    """A draft experiment; the first variant is the control."""
    _require(user)
    experiment = Experiment(name=name, description=description, metric=metric)
    experiment.full_clean()
    built = [
        Variant(experiment=experiment, position=index, **{k: data[k] for k in data})
        for index, data in enumerate(variants)
    ]
    _check_variants(built)
    experiment.save()
    for variant in built:
        variant.experiment = experiment
    Variant.objects.bulk_create(built)
    return experiment


def experiment_check_variants(*, experiment: Experiment) -> None:
    """Raise unless the saved variants make a valid experiment (the admin saves them in a
    formset, after the experiment)."""
    _check_variants(list(experiment.variants.all()))


@transaction.atomic
def experiment_start(*, user, experiment: Experiment) -> Experiment:
    _require(user)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.DRAFT:
        raise ValidationError({"status": f"Only a draft starts; this one is {experiment.status}."})
    running = Experiment.objects.filter(status=Experiment.Status.RUNNING).first()
    if running is not None:
        raise ValidationError(
            {"status": f"“{running.name}” is running: end it first (one experiment at a time)."}
        )
    # Collections may have been dropped since the draft was written.
    experiment_check_variants(experiment=experiment)
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    try:
        with transaction.atomic():
            experiment.save(update_fields=["status", "started_at", "updated_at"])
    except IntegrityError:
        raise ValidationError({"status": "Another experiment started meanwhile."}) from None
    transaction.on_commit(hooks.forget)
    return experiment


@transaction.atomic
def experiment_end(
    *, user, experiment: Experiment, winner: Variant | None, apply: bool = True
) -> Experiment:
    """Stop splitting the traffic; with a winner and ``apply``, its settings become the
    shop's (its empty fields leave the shop's as they are)."""
    _require(user)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.RUNNING:
        raise ValidationError(
            {"status": f"Only a running experiment ends; this one is {experiment.status}."}
        )
    if winner is not None and winner.experiment_id != experiment.pk:
        raise ValidationError({"winner": "Not a variant of this experiment."})
    experiment.status = Experiment.Status.ENDED
    experiment.ended_at = timezone.now()
    experiment.winner = winner
    experiment.save(update_fields=["status", "ended_at", "winner", "updated_at"])
    if winner is not None and apply:
        _apply(winner)
    transaction.on_commit(hooks.forget)
    return experiment


def _apply(variant: Variant) -> SearchSettings:
    shop = SearchSettings.objects.select_for_update().get_or_create(pk=1)[0]
    changed = []
    for name in SETTINGS_FIELDS:
        value = getattr(variant, name)
        # Empty, "as the request asks" and rules left on all mean "as the shop says".
        if value in (None, "", SettingsFields.Rerank.REQUEST) or (name == "rules" and value):
            continue
        setattr(shop, name, value)
        changed.append(name)
    shop.full_clean()
    shop.save(update_fields=[*changed, "updated_at"])
    return shop


@transaction.atomic
def search_settings_update(*, user, data: dict) -> SearchSettings:
    _require(user)
    shop = SearchSettings.objects.select_for_update().get_or_create(pk=1)[0]
    for name, value in data.items():
        if name not in SETTINGS_FIELDS:
            raise ValidationError({name: "Not a search setting."})
        setattr(shop, name, value)
    raise_if(settings_errors(shop))
    shop.full_clean()
    shop.save(update_fields=[*data, "updated_at"])
    transaction.on_commit(hooks.forget)
    return shop

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.fields import DecimalField, IntegerField, ModelChoiceField
from crm.formatting import money
from crm.forms import ModelForm, form_field, formset_class
from crm.roles import is_manager
from customers.forms import active_users
from customers.models import Customer
from opportunities.models import Opportunity, Stage
from orders.models import Product

SCORE_FIELDS = [f"score_{factor}" for factor in Opportunity.SCORE_FACTORS]
BANT_FIELDS = [f"{item}_{suffix}" for item in Opportunity.BANT for suffix in ("confirmed", "note")]


class OpportunityForm(ModelForm):
    """An opportunity's details. The customer and the first stage are chosen only when creating it."""

    customer = ModelChoiceField(
        queryset=Customer.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose the customer from the suggestions."),
            "invalid_choice": _("Choose the customer from the suggestions."),
        },
    )
    customer_search = forms.CharField(
        label=_("Customer"),
        error_messages={"required": _("Type the customer's name and pick it from the suggestions.")},
        help_text=_("Type a few letters of the name, a phone number or an email, then pick the customer."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )
    stage = ModelChoiceField(queryset=Stage.objects.open(), label=_("Stage"), empty_label=None)

    class Meta:
        model = Opportunity
        fields = [
            "title",
            "owner",
            "expected_close_date",
            "amount",
            "probability",
            "source",
            "description",
            *SCORE_FIELDS,
            *BANT_FIELDS,
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            **{name: forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}) for name in SCORE_FIELDS},
        }

    def __init__(self, *args, user, creating, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            form_field(self, "customer", forms.ModelChoiceField).queryset = Customer.objects.visible_to(user)
        else:
            for name in ("customer", "customer_search", "stage"):
                del self.fields[name]
        if is_manager(user):
            form_field(self, "owner", forms.ModelChoiceField).queryset = active_users()
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty: the customer's owner works it.")
        else:
            del self.fields["owner"]
        self.fields["amount"].required = False
        self.fields["amount"].help_text = _(
            "Leave empty when you add products below: the amount is their total."
        )
        self.fields["probability"].required = False
        self.fields["probability"].help_text = _("Leave empty to take the stage's default.")
        for name in SCORE_FIELDS:
            self.fields[name].required = False

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise ValidationError(_("Give the opportunity a title."), code="required")
        return title

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for name in SCORE_FIELDS:
            if cleaned.get(name) is None:
                cleaned[name] = 0
        return cleaned

    def bant_pairs(self):
        """(checkbox, note) for budget, authority, need and timing, as the form shows them side by side."""
        return [(self[f"{item}_confirmed"], self[f"{item}_note"]) for item in Opportunity.BANT]

    def service_fields(self):
        """The cleaned data in the shape the opportunity services take."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
        if data.get("owner") is None:
            data.pop("owner", None)
        if not self.creating and data.get("probability") is None:
            data.pop("probability")
        if self.creating:
            data["customer"] = self.cleaned_data["customer"]
            data["stage"] = self.cleaned_data["stage"]
        return data


class ProductSelect(forms.Select):
    """Each option carries the product's price, so the page can show the running total."""

    def __init__(self, *args, prices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.prices = prices or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.prices:
            option["attrs"]["data-price"] = str(self.prices[value])
        return option


class LineForm(forms.Form):
    """A product of interest. A row without a product is left out."""

    use_required_attribute = False

    product = forms.TypedChoiceField(label=_("Product"), coerce=int, required=False, empty_value=None)
    quantity = IntegerField(label=_("Quantity"), min_value=1, required=False, initial=1)
    unit_price = DecimalField(
        label=_("Unit price"), min_value=0, max_digits=14, decimal_places=2, required=False
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = products
        choices = [("", "—")]
        choices += [
            (pk, f"{product.sku} · {product.name} ({money(product.unit_price)})")
            for pk, product in products.items()
        ]
        form_field(self, "product", forms.ChoiceField).choices = choices
        self.fields["product"].widget = ProductSelect(
            choices=choices, prices={pk: product.unit_price for pk, product in products.items()}
        )
        self.fields["unit_price"].widget.attrs["placeholder"] = _("product's price")

    def has_changed(self):
        return bool(self.data.get(self.add_prefix("product")))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("product") is not None and not cleaned.get("quantity"):
            self.add_error("quantity", _("Enter how many."))
        return cleaned

    def line(self):
        return {
            "product": self.products[self.cleaned_data["product"]],
            "quantity": self.cleaned_data["quantity"],
            "unit_price": self.cleaned_data["unit_price"],
        }


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, products, **kwargs):
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    def filled_forms(self):
        return [form for form in self.forms if form.has_changed()]

    def lines(self):
        return [form.line() for form in self.filled_forms()]


LineFormSetBase = formset_class(BaseLineFormSet, LineForm, extra=2, max_num=50, validate_max=True)


def line_formset(data=None, opportunity=None):
    """The product rows of the opportunity form: its current lines, then empty rows.

    Products are read once for all rows: the active ones and any still on this opportunity.
    """
    kept = Q(opportunity_lines__opportunity=opportunity) if opportunity and opportunity.pk else Q(pk__in=[])
    products = {product.pk: product for product in Product.objects.filter(Q(active=True) | kept).distinct()}
    initial = None
    if opportunity is not None and data is None:
        initial = [
            {"product": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in opportunity.lines.all()
        ]
    return LineFormSetBase(data, initial=initial, prefix="lines", products=products)


class MoveForm(forms.Form):
    stage = ModelChoiceField(queryset=Stage.objects.all(), label=_("Stage"), empty_label=None)
    from_stage = ModelChoiceField(queryset=Stage.objects.all(), required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class WinForm(forms.Form):
    from_stage = ModelChoiceField(queryset=Stage.objects.all(), required=False, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with the stage change and the new order."),
    )


class LoseForm(forms.Form):
    from_stage = ModelChoiceField(queryset=Stage.objects.all(), required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why was it lost?"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the opportunity was lost.")},
    )


class ReopenForm(forms.Form):
    stage = ModelChoiceField(
        queryset=Stage.objects.open(),
        label=_("Back to stage"),
        required=False,
        empty_label=_("Where it left off"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


EVERYONE = "all"


class BoardForm(forms.Form):
    """The board's filters, read from the address (or the posted move): whose cards, which period
    of won and lost cards, and from which card a column's "load more" goes on."""

    owner = forms.CharField(required=False, max_length=20)
    closed = forms.ChoiceField(
        label=_("Won and lost"),
        required=False,
        choices=[("month", _("This month")), ("last_month", _("Last month")), ("year", _("This year"))],
    )
    offset = IntegerField(required=False, min_value=0, max_value=100_000)

    @property
    def period(self) -> str:
        return (self.cleaned_data.get("closed") if self.is_valid() else "") or "month"

    @property
    def offset_value(self) -> int:
        return (self.cleaned_data.get("offset") if self.is_valid() else 0) or 0

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from crm.fields import DateTimeField, DecimalField, IntegerField, ModelChoiceField
from crm.forms import ModelForm, form_field, formset_class
from customers.forms import active_users
from customers.models import Customer
from orders.models import Order, OrderLine, Payment, Product, SellerProfile
from orders.once import OnceFormMixin
from orders.selectors import orderable_products
from orders.services import Return

MONEY: dict[str, Any] = {"min_value": Decimal("0"), "max_digits": 14, "decimal_places": 2}


class OrderForm(ModelForm):
    """The order's own fields; the lines come in LineFormSet. The customer is chosen by number."""

    customer = ModelChoiceField(
        queryset=Customer.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose the customer."),
            "invalid_choice": _("Choose one of your customers."),
        },
    )

    class Meta:
        model = Order
        fields = [
            "customer",
            "owner",
            "currency",
            "discount",
            "tax_rate",
            "payment_method",
            "shipping_address",
            "carrier",
            "tracking_number",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, user_is_manager, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "customer", forms.ModelChoiceField).queryset = Customer.objects.visible_to(user)
        if user_is_manager:
            form_field(self, "owner", forms.ModelChoiceField).queryset = active_users()
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty for the customer's owner.")
        else:
            del self.fields["owner"]
        if not self.instance.pk:
            self.fields["tax_rate"].initial = settings.DEFAULT_TAX_RATE
        if self.instance.pk:
            del self.fields["customer"]
            if not self.instance.is_editable:
                for name in ("currency", "discount", "tax_rate"):
                    del self.fields[name]
        if not self.instance.pk or self.instance.status != Order.Status.PROCESSING:
            del self.fields["carrier"], self.fields["tracking_number"]

    def service_fields(self):
        """The cleaned data as the order services take it."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "customer"}
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class LineForm(forms.Form):
    product = ModelChoiceField(queryset=Product.objects.none(), required=False, label=_("Product"))
    description = forms.CharField(max_length=300, required=False, label=_("Description"))
    quantity = IntegerField(min_value=1, label=_("Quantity"))
    unit_price = DecimalField(required=False, label=_("Unit price"), **MONEY)
    discount = DecimalField(required=False, label=_("Discount"), **MONEY)

    use_required_attribute = False

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "product", forms.ModelChoiceField).queryset = products

    def has_changed(self):
        """A row counts once something is typed or chosen in it; blank rows are ignored."""
        return any((self.data.get(self.add_prefix(name)) or "").strip() for name in self.fields)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("product") and not (cleaned.get("description") or "").strip():
            self.add_error("description", _("Choose a product or describe what is sold."))
        if (
            not cleaned.get("product")
            and cleaned.get("unit_price") is None
            and "unit_price" not in self.errors
        ):
            self.add_error("unit_price", _("Enter the unit price."))
        return cleaned

    def line(self):
        data = self.cleaned_data
        line = {"product": data["product"], "description": data["description"], "quantity": data["quantity"]}
        for name in ("unit_price", "discount"):
            if data.get(name) is not None:
                line[name] = data[name]
        return line


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, products=None, **kwargs):
        self.products = products if products is not None else orderable_products()
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    @cached_property
    def product_options(self):
        """The products every row's select offers, read once for all rows."""
        return list(self.products)

    def filled_forms(self):
        return [form for form in self.forms if form.has_changed()]

    def lines(self):
        return [form.line() for form in self.filled_forms()]

    def full_clean(self):
        super().full_clean()
        # Blank rows are not lines: their missing quantity is no error.
        for form in self.forms:
            if not form.has_changed():
                form._errors = {}

    def is_valid(self):
        self.errors  # noqa: B018 - runs full_clean
        return not self.non_form_errors() and all(not form.errors for form in self.filled_forms())


LineFormSet = formset_class(BaseLineFormSet, LineForm, extra=3, max_num=200, absolute_max=200)


def line_initial(order_lines):
    return [
        {
            "product": line.product_id,
            "description": line.description
            if not line.product_id or line.description != line.product.name
            else "",
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount": line.discount or None,
        }
        for line in order_lines
    ]


class PaymentForm(OnceFormMixin):
    PAYMENT, REFUND = "payment", "refund"
    kind = forms.ChoiceField(
        choices=[(PAYMENT, _("Payment")), (REFUND, _("Refund"))], label=_("Kind"), initial=PAYMENT
    )
    amount = DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    method = forms.ChoiceField(choices=Payment.Method.choices, label=_("Method"))
    paid_at = DateTimeField(
        label=_("Paid at"),
        required=False,
        help_text=_("Leave empty for now."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "payment_%s")
        super().__init__(*args, **kwargs)

    def service_fields(self):
        data = dict(self.cleaned_data)
        data.pop("form_token", None)
        amount = data.pop("amount")
        data["amount"] = -amount if data.pop("kind") == self.REFUND else amount
        return data


class TransitionForm(OnceFormMixin):
    """What a transition takes besides the order; each transition uses the fields it needs."""

    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=100)
    override_balance = forms.BooleanField(label=_("Finish with the balance open"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)

    FIELDS = {
        "confirm": ["note"],
        "start_processing": ["carrier", "tracking_number", "note"],
        "finish": ["note", "override_balance"],
        "close": ["reason"],
    }

    def __init__(self, name, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{name}_%s")
        super().__init__(*args, **kwargs)
        self.name = name
        self.fields = {key: self.fields[key] for key in [*self.FIELDS[name], "form_token"]}
        if name == "close":
            self.fields["reason"].widget.attrs["required"] = (
                True  # the service says why, should the browser not
            )


class ProductForm(ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "series", "unit_price", "active"]

    def clean_sku(self):
        """As the services store it, so that the uniqueness check compares like with like."""
        return " ".join(self.cleaned_data["sku"].split()).upper()


class CreditNoteForm(OnceFormMixin):
    """A credit note: returned quantities of the order's lines and/or a free amount, with a reason,
    and the refund that pays it back, all in one form (services.issue_credit_note)."""

    reason = forms.CharField(label=_("Reason"), max_length=300)
    amount = DecimalField(label=_("Amount credited"), required=False, **MONEY)
    description = forms.CharField(
        label=_("What the amount is for"),
        max_length=300,
        required=False,
        help_text=_("For example a price reduction agreed with the customer."),
    )
    refund = DecimalField(
        label=_("Refund now"),
        required=False,
        help_text=_("Money paid back with this credit note; at most what has been paid."),
        **MONEY,
    )
    refund_method = forms.ChoiceField(
        choices=[("", "—"), *Payment.Method.choices], label=_("Refund method"), required=False
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(lines)
        for line in self.order_lines:
            self.fields[self.return_field(line)] = IntegerField(
                label=line.description, min_value=0, max_value=line.quantity, required=False
            )

    @staticmethod
    def return_field(line: OrderLine) -> str:
        return f"return-{line.pk}"

    def return_rows(self):
        """Each order line with its quantity-returned field, for the template."""
        return [(line, self[self.return_field(line)]) for line in self.order_lines]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "returns": [
                Return(line=line, quantity=data.get(self.return_field(line)) or 0)
                for line in self.order_lines
            ],
            "amount": data.get("amount"),
            "description": data.get("description", ""),
            "refund": data.get("refund"),
            "refund_method": data.get("refund_method", ""),
            "reference": data.get("reference", ""),
        }


class ApprovalRequestForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the approver"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: why this order should go ahead."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "approval_%s")
        super().__init__(*args, **kwargs)


class ApprovalDecisionForm(forms.Form):
    APPROVE, REJECT = "approve", "reject"
    decision = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REJECT, _("Refuse"))], label=_("Answer"))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when refusing."),
    )

    def __init__(self, *args, approval_id: int, **kwargs):
        kwargs.setdefault("auto_id", f"decision{approval_id}_%s")
        super().__init__(*args, **kwargs)
        self.approval_id = approval_id


class SellerProfileForm(ModelForm):
    class Meta:
        model = SellerProfile
        fields = ["company_name", "address", "tax_number", "bank_name", "bank_account", "phone"]

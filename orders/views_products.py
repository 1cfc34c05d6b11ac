"""The product catalogue: a list for everyone; creating, editing and importing for managers."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET

from crm.forms import apply_errors
from crm.import_views import ImportPages, managers_only
from crm.lists import export_list, export_view, filtered_and_sorted, keyset_page
from orders import importing, selectors, services
from orders.filters import DEFAULT_PRODUCT_SORT, PRODUCT_SORTS, ProductFilter
from orders.forms import ProductForm
from orders.models import Product


def _filtered_products(request):
    filterset = ProductFilter(request.GET, queryset=selectors.products_for_list())
    queryset, sort = filtered_and_sorted(request, filterset, PRODUCT_SORTS, DEFAULT_PRODUCT_SORT)
    return filterset, queryset, sort


@require_GET
def product_list(request):
    filterset, queryset, sort = _filtered_products(request)
    page = keyset_page(request, queryset, PRODUCT_SORTS[sort])
    return render(request, "orders/product_list.html", {"filterset": filterset, "page": page, "sort": sort})


EXPORT_HEADERS = [
    gettext_noop("SKU"),
    gettext_noop("Name"),
    gettext_noop("Series"),
    gettext_noop("Unit price"),
    gettext_noop("Active"),
]


@export_view
def product_export(request):
    filterset, queryset, sort = _filtered_products(request)
    return export_list(
        request,
        filterset,
        queryset,
        PRODUCT_SORTS[sort],
        filename="products",
        headers=EXPORT_HEADERS,
        row=lambda p: [p.sku, p.name, p.series, p.unit_price, _("Yes") if p.active else _("No")],
        sheet_title=_("Products"),
    )


def _product_form(request, product=None):
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            if product is None:
                product = services.create_product(actor=request.user, **form.cleaned_data)
            else:
                services.update_product(actor=request.user, product=product, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Product “%(product)s” saved.") % {"product": product})
            return redirect("orders:products")
    return render(request, "orders/product_form.html", {"form": form, "product": product})


@managers_only
def product_create(request):
    return _product_form(request)


@managers_only
def product_edit(request, pk):
    return _product_form(request, get_object_or_404(Product, pk=pk))


IMPORT_PAGES = ImportPages(
    kind="products",
    columns=importing.COLUMNS,
    run_import=importing.run_import,
    title=gettext_lazy("Import products"),
    list_title=gettext_lazy("Products"),
    list_url="orders:products",
    upload_url="orders:product_import",
    preview_url="orders:product_import_preview",
    help_template="orders/product_import_help.html",
    record_label=gettext_lazy("Product"),
    option=importing.GENERATE_SKU,
)
import_upload, import_preview = IMPORT_PAGES.views()

from django.urls import path

from orders import views, views_import, views_products

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="index"),
    path("export/", views.order_export, name="export"),
    path("new/", views.order_create, name="create"),
    path("import/", views_import.import_upload, name="import"),
    path("import/<uuid:token>/", views_import.import_preview, name="import_preview"),
    path("balances/", views.balances_due, name="balances"),
    path("approvals/", views.approval_queue, name="approvals"),
    path("approvals/<int:pk>/", views.approval_decide, name="approval_decide"),
    path("<int:pk>/approval/", views.approval_request, name="approval_request"),
    path("balances/export/", views.balances_export, name="balances_export"),
    path("customers/", views.customer_options, name="customer_options"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/history/", views.order_history, name="history"),
    path("<int:pk>/edit/", views.order_edit, name="edit"),
    path("<int:pk>/statement/", views.order_statement, name="statement"),
    path("<int:pk>/statement.pdf", views.order_statement_pdf, name="statement_pdf"),
    path("seller/", views.seller_profile, name="seller"),
    path("<int:pk>/payments/", views.payment_add, name="payment_add"),
    path("<int:pk>/credit-notes/new/", views.credit_note_create, name="credit_note_create"),
    path("<int:pk>/transition/<slug:name>/", views.order_transition, name="transition"),
    path("products/", views_products.product_list, name="products"),
    path("products/export/", views_products.product_export, name="product_export"),
    path("products/new/", views_products.product_create, name="product_create"),
    path("products/<int:pk>/edit/", views_products.product_edit, name="product_edit"),
    path("products/import/", views_products.import_upload, name="product_import"),
    path("products/import/<uuid:token>/", views_products.import_preview, name="product_import_preview"),
]

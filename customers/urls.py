from django.urls import path

from customers import views, views_import

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="index"),
    path("export/", views.customer_export, name="export"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("duplicates/", views.duplicate_check, name="duplicates"),
    path("needs/", views.needs_report, name="needs_report"),
    path("import/", views_import.import_upload, name="import"),
    path("import/<uuid:token>/", views_import.import_preview, name="import_preview"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/merge/", views.customer_merge, name="merge"),
    path("<int:pk>/merge/candidates/", views.merge_candidates, name="merge_candidates"),
    path("<int:pk>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:pk>/orders/", views.customer_orders_card, name="orders_card"),
    path("<int:pk>/opportunities/", views.customer_opportunities_card, name="opportunities_card"),
    path("<int:pk>/methods/", views.contact_method_add, name="method_add"),
    path("<int:pk>/persons/", views.contact_person_add, name="person_add"),
    path("<int:pk>/needs/", views.need_add, name="need_add"),
    path("methods/<int:pk>/edit/", views.contact_method_edit, name="method_edit"),
    path("methods/<int:pk>/delete/", views.contact_method_delete, name="method_delete"),
    path("persons/<int:pk>/edit/", views.contact_person_edit, name="person_edit"),
    path("persons/<int:pk>/delete/", views.contact_person_delete, name="person_delete"),
    path("needs/<int:pk>/status/", views.need_status, name="need_status"),
]

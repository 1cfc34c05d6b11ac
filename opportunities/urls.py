from django.urls import path

from opportunities import views, views_import

app_name = "opportunities"

urlpatterns = [
    path("", views.opportunity_list, name="index"),
    path("export/", views.opportunity_export, name="export"),
    path("board/", views.opportunity_board, name="board"),
    path("board/stages/<int:stage_pk>/", views.board_column, name="board_column"),
    path("new/", views.opportunity_create, name="create"),
    path("customers/", views.customer_choices, name="customer_choices"),
    path("import/", views_import.import_upload, name="import"),
    path("import/<uuid:token>/", views_import.import_preview, name="import_preview"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/move/", views.opportunity_move, name="move"),
    path("<int:pk>/win/", views.opportunity_win, name="win"),
    path("<int:pk>/lose/", views.opportunity_lose, name="lose"),
    path("<int:pk>/reopen/", views.opportunity_reopen, name="reopen"),
]

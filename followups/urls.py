from django.urls import path

from followups import views

app_name = "followups"

urlpatterns = [
    path("", views.followup_list, name="index"),
    path("export/", views.followup_export, name="export"),
    path("today/", views.my_day, name="today"),
    path("today/<str:part>/", views.my_day_more, name="today_more"),
    path("calendar/", views.calendar, name="calendar"),
    path("<int:pk>/", views.followup_detail, name="detail"),
    path("<int:pk>/complete/", views.followup_complete, name="complete"),
    path("<int:pk>/postpone/", views.followup_postpone, name="postpone"),
    path("<int:pk>/postpone/menu/", views.followup_postpone_menu, name="postpone_menu"),
    path("<int:pk>/reschedule/", views.followup_reschedule, name="reschedule"),
    path("<int:pk>/reassign/", views.followup_reassign, name="reassign"),
    path("<int:pk>/cancel/", views.followup_cancel, name="cancel"),
    path("communications/", views.communication_list, name="communications"),
    path("communications/export/", views.communication_export, name="communications_export"),
    path("communications/<int:pk>/", views.communication_detail, name="communication"),
    path("customers/<int:customer_pk>/log/", views.communication_log, name="log"),
    path("customers/<int:customer_pk>/schedule/", views.followup_schedule, name="schedule"),
    path("customers/<int:customer_pk>/people/", views.person_options, name="person_options"),
    path("about/<str:link>/<int:pk>/", views.linked_card, name="linked"),
]

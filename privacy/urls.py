from django.urls import path

from privacy import views

urlpatterns = [
    path("me/data/", views.my_data, name="my_data"),
    path("me/data/export.json", views.my_data_export, name="my_data_export"),
    path("me/data/delete/", views.account_delete, name="account_delete"),
    path("me/records/", views.client_records, name="client_records"),
    path("me/records/<int:record_id>.md", views.client_record_md, name="client_record_md"),
    path("me/records/<int:record_id>/delete/", views.client_record_delete, name="client_record_delete"),
    path("groups/<int:group_id>/retention/", views.group_retention, name="group_retention"),
    path("groups/<int:group_id>/audit/", views.group_audit, name="group_audit"),
]

from django.urls import path

from workshops import views

urlpatterns = [
    path("", views.home, name="home"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("workshops/<int:workshop_id>/", views.workshop_room, name="workshop"),
    path("workshops/<int:workshop_id>/act/", views.workshop_act, name="workshop_act"),
]

from django.urls import include, path

from workshops import views
from workshops.pages import clock, coordination, guidance, members, pool, projector, records, sessions

urlpatterns = [
    path("", views.home, name="home"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("workshops/<int:workshop_id>/", views.workshop_room, name="workshop"),
    path("workshops/<int:workshop_id>/act/", views.workshop_act, name="workshop_act"),
    path("", include(members.urlpatterns)),
    path("", include(pool.urlpatterns)),
    path("", include(sessions.urlpatterns)),
    path("", include(records.urlpatterns)),
    path("", include(coordination.urlpatterns)),
    path("", include(projector.urlpatterns)),
    path("", include(guidance.urlpatterns)),
    path("", include(clock.urlpatterns)),
]

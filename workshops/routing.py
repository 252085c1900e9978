from django.urls import path

from workshops.consumers import RoomConsumer

websocket_urlpatterns = [path("ws/workshops/<int:workshop_id>/", RoomConsumer.as_asgi())]

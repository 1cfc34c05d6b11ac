from rest_framework.routers import SimpleRouter

from followups.api.views import CommunicationViewSet, FollowUpViewSet

router = SimpleRouter()
router.register("communications", CommunicationViewSet, basename="communication")
router.register("followups", FollowUpViewSet, basename="followup")
urlpatterns = router.urls

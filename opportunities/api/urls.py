from rest_framework.routers import SimpleRouter

from opportunities.api.views import OpportunityViewSet, StageViewSet

router = SimpleRouter()
router.register("stages", StageViewSet, basename="stage")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
urlpatterns = router.urls

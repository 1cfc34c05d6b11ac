from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contact-methods", views.ContactMethodViewSet, basename="contact-method")
router.register("contact-persons", views.ContactPersonViewSet, basename="contact-person")
router.register("needs", views.NeedViewSet, basename="need")
urlpatterns = router.urls

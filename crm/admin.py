"""Django's own models in the admin (users and groups) and the API tokens (django-rest-knox: operations
revoke a token by deleting it), with the project's bounded form fields."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from crm.admin_site import BoundedFieldsAdmin

for model, model_admin in ((get_user_model(), UserAdmin), (Group, GroupAdmin), (AuthToken, AuthTokenAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, type(model_admin.__name__, (BoundedFieldsAdmin, model_admin), {}))

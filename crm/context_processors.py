from typing import Any

from django.http import HttpRequest

from crm.roles import is_manager, is_team_lead


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar needs: the current section and the user's role."""
    user = getattr(request, "user", None)
    match = request.resolver_match
    return {
        "nav_section": (match.namespace or match.url_name) if match else "",
        "user_is_manager": user is not None and is_manager(user),
        "user_is_team_lead": user is not None and is_team_lead(user),
        "user_can_admin": user is not None and user.is_authenticated and user.is_staff and user.is_active,
    }

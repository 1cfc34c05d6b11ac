from crm.roles import is_manager


def navigation(request):
    """What the navigation bar needs: the current section and the user's role."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    return {
        "nav_section": (match.namespace or match.url_name) if match else "",
        "user_is_manager": bool(user) and is_manager(user),
        "user_can_admin": bool(user) and user.is_authenticated and user.is_staff and user.is_active,
    }

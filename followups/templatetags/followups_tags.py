from django import template
from django.utils.html import format_html

from crm.roles import is_manager
from followups.forms import quick_add_context
from followups.models import Communication

register = template.Library()

CHANNEL_ICONS = {
    Communication.Channel.PHONE: "telephone",
    Communication.Channel.EMAIL: "envelope",
    Communication.Channel.MEETING: "people",
    Communication.Channel.VISIT: "geo-alt",
    Communication.Channel.WECHAT: "wechat",
    Communication.Channel.MESSAGE: "chat-dots",
    Communication.Channel.OTHER: "chat-square-text",
}


@register.filter
def channel_icon(channel):
    """The Bootstrap icon of a communication channel."""
    return CHANNEL_ICONS.get(channel, "chat-square-text")


@register.simple_tag(takes_context=True)
def customer_link(context, customer):
    """The customer's name, linked to its page when the user may open it (a follow-up's assignee may not)."""
    user = context["request"].user
    if is_manager(user) or customer.owner_id == user.pk:
        return format_html('<a href="{}">{}</a>', customer.get_absolute_url(), customer.name)
    return customer.name


@register.inclusion_tag("followups/partials/quick_add.html", takes_context=True)
def quick_add(context, customer):
    """The customer page's forms to log a communication and schedule a follow-up."""
    return {**quick_add_context(context["request"].user, customer), "csrf_token": context.get("csrf_token")}

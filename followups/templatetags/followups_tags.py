from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html

from crm.access import can_see
from customers.access import can_change_customer
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


def _may_open(context, customer):
    """Whether the user may open the customer's page, and so its orders and opportunities: a follow-up's
    assignee may see a colleague's customer by name only."""
    return can_see(context["request"].user, customer)


@register.simple_tag(takes_context=True)
def customer_link(context, customer):
    """The customer's name, linked to its page when the user may open it."""
    if _may_open(context, customer):
        return format_html('<a href="{}">{}</a>', customer.get_absolute_url(), customer.name)
    return customer.name


@register.simple_tag(takes_context=True)
def schedule_next_url(context, followup, back):
    """Where to schedule the follow-up after this one, pre-filled from it ("" if the user may not
    add to its customer); the page returns to `back` once saved."""
    if not can_change_customer(context["request"].user, followup.customer):
        return ""
    query = urlencode({"after": followup.pk, "next": back})
    return f"{reverse('followups:schedule', args=[followup.customer_id])}?{query}"


@register.inclusion_tag("followups/partials/record_links.html", takes_context=True)
def record_links(context, item, customer_shown=False):
    """The order and the opportunity a communication or follow-up is about, linked when the user may
    open them. `customer_shown`: the page is the customer's own (its timeline), so they may."""
    return {
        "order": item.order,
        "opportunity": item.opportunity,
        "can_open": customer_shown or _may_open(context, item.customer),
    }


@register.simple_tag
def linked_add_url(card, url_name):
    """The quick-add page (log or schedule) for the record of an order's or opportunity's card: already
    linked to it, and back to the record's page once saved."""
    record = card.record
    query = urlencode({card.link: record.pk, "next": record.get_absolute_url()})
    return f"{reverse(url_name, args=[record.customer_id])}?{query}"


@register.inclusion_tag("followups/partials/quick_add.html", takes_context=True)
def quick_add(context, customer):
    """The customer page's forms to log a communication and schedule a follow-up; the links offer
    what the page has read already when it gives its `customer_records` (followups.forms.CustomerRecords)."""
    records = context.get("customer_records")
    return {
        **quick_add_context(context["request"].user, customer, records=records),
        "csrf_token": context.get("csrf_token"),
    }

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html

from crm.access import acts_for
from customers.access import can_change_customer
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


@register.simple_tag
def customer_link(customer):
    """The customer's name, linked to its page. Only for the customer of a follow-up or communication the
    user sees: that opens the customer for them, as its page (their own or their team's customer) or as
    its read-only card (customers.access.access_customer_card)."""
    return format_html('<a href="{}">{}</a>', customer.get_absolute_url(), customer.name)


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
    user = context["request"].user

    def may_open(record):  # a record of the item's customer: its owner or the customer's opens it
        return record is not None and (
            customer_shown or acts_for(user, record.owner_id, item.customer.owner_id)
        )

    return {
        "order": item.order,
        "opportunity": item.opportunity,
        "can_open_order": may_open(item.order),
        "can_open_opportunity": may_open(item.opportunity),
    }


@register.simple_tag
def linked_add_url(card, url_name):
    """The quick-add page (log or schedule) for the record of an order's or opportunity's card: already
    linked to it, and back to the record's page once saved."""
    record = card.record
    query = urlencode({card.link: record.pk, "next": record.get_absolute_url()})
    return f"{reverse(url_name, args=[record.customer_id])}?{query}"

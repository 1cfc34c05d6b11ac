"""How people are named: by their full name everywhere a user is shown or picked; the username only
as a hint, beside the name in pickers, or alone when no name is known."""

from __future__ import annotations

from typing import Any

from django import forms


def display_name(user: Any) -> str:
    """The user's full name, or their username when they have none; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def picker_label(user: Any) -> str:
    """A user as a picker offers them: "Lei Zhang (sales1)"; the username alone when no name is known."""
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


class UserChoiceField(forms.ModelChoiceField):
    """A user picker that lists people by full name, with the username as a hint."""

    def label_from_instance(self, obj: Any) -> str:
        return picker_label(obj)

"""Demo teams: sales1 works in East (no lead), lead1 leads North where sales2 works, so the demo shows a
salesperson, a team lead who sees a colleague's pipeline, and a manager who sees everything."""

from django.contrib.auth.models import User

from accounts.models import Membership, Team
from crm.demo import DemoContext

DEMO_TEAMS = [
    ("East", "上海", ["sales1"]),
    ("North", "北京", ["lead1", "sales2"]),
]


def seed_teams(context: DemoContext) -> None:
    for name, region, usernames in DEMO_TEAMS:
        team, _created = Team.objects.get_or_create(name=name, defaults={"region": region})
        for user in User.objects.filter(username__in=usernames):
            Membership.objects.get_or_create(user=user, defaults={"team": team})

from django.http import HttpRequest

from accounts.access import membership_for


def console(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = membership_for(user)
    return {"membership": membership, "can_write": membership is not None and membership.can_write}

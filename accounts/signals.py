"""What the account tells the rest of the console."""

from django.dispatch import Signal

# A member's role changed or they were removed (argument: `user`), inside the transaction that did it.
# Whatever keeps something of the member's rights elsewhere (cached API credentials) forgets it.
membership_changed = Signal()

import pytest

from customers.tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    with Receiver() as running:
        yield running


@pytest.fixture
def other_receiver(settings):
    with Receiver() as running:
        yield running

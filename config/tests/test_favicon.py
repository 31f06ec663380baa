from django.test import Client


def test_favicon_ico_leads_anyone_to_the_icon_every_page_links(settings, db):
    # Static files straight from static/, as runserver serves them (tests run with DEBUG off).
    settings.WHITENOISE_USE_FINDERS = True
    client = Client()

    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)
    login_page = client.get("/accounts/login/").content.decode()
    assert f'<link rel="icon" href="{response["Location"]}"' in login_page

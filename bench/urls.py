"""The app's URLs, plus the bench-only views under /bench/ (bench.settings' ROOT_URLCONF)."""

from django.urls import include, path

from bench import views

bench_patterns = [
    path("bare/", views.bare, name="bare"),
    path("bare-login/", views.bare_logged_in, name="bare-login"),
]

urlpatterns = [
    path("", include("mini_crm.urls")),
    path("bench/", include((bench_patterns, "bench"))),
]

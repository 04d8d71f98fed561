from django.urls import path

from merchandising import apis

urlpatterns = [
    path("merchandising/rules/", apis.RuleListCreateApi.as_view(), name="merchandising-rules"),
    path(
        "merchandising/rules/<int:rule_id>/",
        apis.RuleDetailApi.as_view(),
        name="merchandising-rule",
    ),
]

from django.urls import path

from merchandising import apis
from merchandising.experiments import apis as experiment_apis

urlpatterns = [
    path("merchandising/rules/", apis.RuleListCreateApi.as_view(), name="merchandising-rules"),
    path(
        "merchandising/rules/<int:rule_id>/",
        apis.RuleDetailApi.as_view(),
        name="merchandising-rule",
    ),
    path(
        "merchandising/experiments/",
        experiment_apis.ExperimentListCreateApi.as_view(),
        name="merchandising-experiments",
    ),
    path(
        "merchandising/experiments/<int:experiment_id>/",
        experiment_apis.ExperimentDetailApi.as_view(),
        name="merchandising-experiment",
    ),
    path(
        "merchandising/experiments/<int:experiment_id>/start/",
        experiment_apis.ExperimentStartApi.as_view(),
        name="merchandising-experiment-start",
    ),
    path(
        "merchandising/experiments/<int:experiment_id>/end/",
        experiment_apis.ExperimentEndApi.as_view(),
        name="merchandising-experiment-end",
    ),
    path(
        "merchandising/experiments/<int:experiment_id>/results/",
        experiment_apis.ExperimentResultsApi.as_view(),
        name="merchandising-experiment-results",
    ),
    path(
        "merchandising/search-settings/",
        experiment_apis.SearchSettingsApi.as_view(),
        name="merchandising-search-settings",
    ),
]

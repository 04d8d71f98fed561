"""Contains all the data models used in inputs/outputs"""

from .applied_rule import AppliedRule
from .applied_rule_kind_enum import AppliedRuleKindEnum
from .attribute_enum import AttributeEnum
from .blank_enum import BlankEnum
from .bulk_result import BulkResult
from .bulk_row_result import BulkRowResult
from .bulk_row_result_errors import BulkRowResultErrors
from .bulk_row_status_enum import BulkRowStatusEnum
from .delivery_output import DeliveryOutput
from .delivery_page import DeliveryPage
from .derived_colour import DerivedColour
from .detect_input_request import DetectInputRequest
from .detect_output import DetectOutput
from .detected_box import DetectedBox
from .draft_error import DraftError
from .draft_output import DraftOutput
from .draft_output_attributes import DraftOutputAttributes
from .end_input_request import EndInputRequest
from .endpoint_created import EndpointCreated
from .endpoint_input_request import EndpointInputRequest
from .endpoint_output import EndpointOutput
from .error import Error
from .error_errors import ErrorErrors
from .event_input_kind_enum import EventInputKindEnum
from .event_input_request import EventInputRequest
from .events_input_request import EventsInputRequest
from .events_output import EventsOutput
from .experiment_input_request import ExperimentInputRequest
from .experiment_output import ExperimentOutput
from .experiment_output_status_enum import ExperimentOutputStatusEnum
from .experiment_page import ExperimentPage
from .experiment_tag import ExperimentTag
from .facets import Facets
from .facets_attributes import FacetsAttributes
from .facets_attributes_additional_property import FacetsAttributesAdditionalProperty
from .facets_brand import FacetsBrand
from .facets_category import FacetsCategory
from .facets_color import FacetsColor
from .filters_request import FiltersRequest
from .filters_request_attributes import FiltersRequestAttributes
from .image_fetch_input_request import ImageFetchInputRequest
from .image_fetch_output import ImageFetchOutput
from .image_fetch_status_enum import ImageFetchStatusEnum
from .image_output import ImageOutput
from .image_status_enum import ImageStatusEnum
from .leg_weights_request import LegWeightsRequest
from .look_group import LookGroup
from .look_output import LookOutput
from .look_output_query_type_enum import LookOutputQueryTypeEnum
from .look_output_stages import LookOutputStages
from .mean import Mean
from .merchant_image_output import MerchantImageOutput
from .merchant_image_page import MerchantImagePage
from .merchant_images_list_status import MerchantImagesListStatus
from .merchant_product_images_list_status import MerchantProductImagesListStatus
from .merchant_products_list_image_status import MerchantProductsListImageStatus
from .metric_enum import MetricEnum
from .metrics import Metrics
from .patched_product_update_input_request import PatchedProductUpdateInputRequest
from .patched_product_update_input_request_attributes import PatchedProductUpdateInputRequestAttributes
from .patched_rule_update_input_request import PatchedRuleUpdateInputRequest
from .patched_settings_input_request import PatchedSettingsInputRequest
from .price_band import PriceBand
from .product_colors import ProductColors
from .product_colors_input_request import ProductColorsInputRequest
from .product_image_upload_request import ProductImageUploadRequest
from .product_input_request import ProductInputRequest
from .product_input_request_attributes import ProductInputRequestAttributes
from .product_output import ProductOutput
from .product_output_derived_attributes import ProductOutputDerivedAttributes
from .product_output_derived_attributes_additional_property import ProductOutputDerivedAttributesAdditionalProperty
from .product_page import ProductPage
from .rate import Rate
from .recognised import Recognised
from .rerank_enum import RerankEnum
from .result import Result
from .result_legs import ResultLegs
from .result_match_enum import ResultMatchEnum
from .results import Results
from .rule_input_request import RuleInputRequest
from .rule_kind_enum import RuleKindEnum
from .rule_match_enum import RuleMatchEnum
from .rule_output import RuleOutput
from .rule_page import RulePage
from .search_input_request import SearchInputRequest
from .search_output import SearchOutput
from .search_output_query_type_enum import SearchOutputQueryTypeEnum
from .search_output_stages import SearchOutputStages
from .search_photo_input_request import SearchPhotoInputRequest
from .search_settings_output import SearchSettingsOutput
from .source_enum import SourceEnum
from .synonym_type_enum import SynonymTypeEnum
from .test import Test
from .tests import Tests
from .token_input_request import TokenInputRequest
from .token_output import TokenOutput
from .variant_input_request import VariantInputRequest
from .variant_output import VariantOutput
from .variant_stats import VariantStats
from .verdict import Verdict
from .webhook_delivery_status_enum import WebhookDeliveryStatusEnum
from .webhook_event_enum import WebhookEventEnum

__all__ = (
    "AppliedRule",
    "AppliedRuleKindEnum",
    "AttributeEnum",
    "BlankEnum",
    "BulkResult",
    "BulkRowResult",
    "BulkRowResultErrors",
    "BulkRowStatusEnum",
    "DeliveryOutput",
    "DeliveryPage",
    "DerivedColour",
    "DetectedBox",
    "DetectInputRequest",
    "DetectOutput",
    "DraftError",
    "DraftOutput",
    "DraftOutputAttributes",
    "EndInputRequest",
    "EndpointCreated",
    "EndpointInputRequest",
    "EndpointOutput",
    "Error",
    "ErrorErrors",
    "EventInputKindEnum",
    "EventInputRequest",
    "EventsInputRequest",
    "EventsOutput",
    "ExperimentInputRequest",
    "ExperimentOutput",
    "ExperimentOutputStatusEnum",
    "ExperimentPage",
    "ExperimentTag",
    "Facets",
    "FacetsAttributes",
    "FacetsAttributesAdditionalProperty",
    "FacetsBrand",
    "FacetsCategory",
    "FacetsColor",
    "FiltersRequest",
    "FiltersRequestAttributes",
    "ImageFetchInputRequest",
    "ImageFetchOutput",
    "ImageFetchStatusEnum",
    "ImageOutput",
    "ImageStatusEnum",
    "LegWeightsRequest",
    "LookGroup",
    "LookOutput",
    "LookOutputQueryTypeEnum",
    "LookOutputStages",
    "Mean",
    "MerchantImageOutput",
    "MerchantImagePage",
    "MerchantImagesListStatus",
    "MerchantProductImagesListStatus",
    "MerchantProductsListImageStatus",
    "MetricEnum",
    "Metrics",
    "PatchedProductUpdateInputRequest",
    "PatchedProductUpdateInputRequestAttributes",
    "PatchedRuleUpdateInputRequest",
    "PatchedSettingsInputRequest",
    "PriceBand",
    "ProductColors",
    "ProductColorsInputRequest",
    "ProductImageUploadRequest",
    "ProductInputRequest",
    "ProductInputRequestAttributes",
    "ProductOutput",
    "ProductOutputDerivedAttributes",
    "ProductOutputDerivedAttributesAdditionalProperty",
    "ProductPage",
    "Rate",
    "Recognised",
    "RerankEnum",
    "Result",
    "ResultLegs",
    "ResultMatchEnum",
    "Results",
    "RuleInputRequest",
    "RuleKindEnum",
    "RuleMatchEnum",
    "RuleOutput",
    "RulePage",
    "SearchInputRequest",
    "SearchOutput",
    "SearchOutputQueryTypeEnum",
    "SearchOutputStages",
    "SearchPhotoInputRequest",
    "SearchSettingsOutput",
    "SourceEnum",
    "SynonymTypeEnum",
    "Test",
    "Tests",
    "TokenInputRequest",
    "TokenOutput",
    "VariantInputRequest",
    "VariantOutput",
    "VariantStats",
    "Verdict",
    "WebhookDeliveryStatusEnum",
    "WebhookEventEnum",
)

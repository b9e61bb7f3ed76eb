"""Every operation the API serves, once, as data (reference §3, §3.1).

Paths are botocore's ``requestUri`` with aiohttp label names; statuses are the modelled
success codes. Operations reading partitioned state name the state and the label holding
the key, and are proxied to the owning worker.
"""

from __future__ import annotations

from engine.api import apps, campaigns, endpoints, events, imports, segments, templates
from engine.api.context import Operation

__all__ = ["OPERATIONS"]

_APP = "/v1/apps/{app_id}"
_SEGMENT = _APP + "/segments/{segment_id}"
_CAMPAIGN = _APP + "/campaigns/{campaign_id}"
_ENDPOINT = _APP + "/endpoints/{endpoint_id}"
_TEMPLATE = "/v1/templates/{template_name}"

OPERATIONS: tuple[Operation, ...] = (
    # apps and settings (§5)
    Operation("CreateApp", "POST", "/v1/apps", 201, apps.create_app),
    Operation("GetApps", "GET", "/v1/apps", 200, apps.get_apps),
    Operation("GetApp", "GET", _APP, 200, apps.get_app),
    Operation("DeleteApp", "DELETE", _APP, 200, apps.delete_app),
    Operation("GetApplicationSettings", "GET", _APP + "/settings", 200, apps.get_application_settings),
    Operation("UpdateApplicationSettings", "PUT", _APP + "/settings", 200, apps.update_application_settings),
    # endpoints (§6.1)
    Operation("UpdateEndpointsBatch", "PUT", _APP + "/endpoints", 202, endpoints.update_endpoints_batch),
    Operation("UpdateEndpoint", "PUT", _ENDPOINT, 202, endpoints.update_endpoint),
    Operation("GetEndpoint", "GET", _ENDPOINT, 200, endpoints.get_endpoint, "endpoint", "endpoint_id"),
    Operation("DeleteEndpoint", "DELETE", _ENDPOINT, 202, endpoints.delete_endpoint, "endpoint", "endpoint_id"),
    Operation(
        "GetInAppMessages", "GET", _ENDPOINT + "/inappmessages", 200, endpoints.get_in_app_messages,
        "endpoint", "endpoint_id",
    ),
    # events (§6.2)
    Operation(
        "PutEvents", "POST", _APP + "/events", 202, events.put_events,
        max_body_bytes=events.MAX_PUT_EVENTS_BYTES,
    ),
    # segments (§7)
    Operation("CreateSegment", "POST", _APP + "/segments", 201, segments.create_segment),
    Operation("GetSegments", "GET", _APP + "/segments", 200, segments.get_segments),
    Operation("GetSegment", "GET", _SEGMENT, 200, segments.get_segment),
    Operation("UpdateSegment", "PUT", _SEGMENT, 200, segments.update_segment),
    Operation("DeleteSegment", "DELETE", _SEGMENT, 200, segments.delete_segment),
    Operation("GetSegmentVersions", "GET", _SEGMENT + "/versions", 200, segments.get_segment_versions),
    Operation("GetSegmentVersion", "GET", _SEGMENT + "/versions/{version}", 200, segments.get_segment_version),
    # segment import jobs (PRODUCT.md semantics 9)
    Operation("CreateImportJob", "POST", _APP + "/jobs/import", 201, imports.create_import_job),
    Operation("GetImportJobs", "GET", _APP + "/jobs/import", 200, imports.get_import_jobs),
    Operation("GetImportJob", "GET", _APP + "/jobs/import/{job_id}", 200, imports.get_import_job),
    Operation("GetSegmentImportJobs", "GET", _SEGMENT + "/jobs/import", 200, imports.get_segment_import_jobs),
    # in-app templates (§12)
    Operation("ListTemplates", "GET", "/v1/templates", 200, templates.list_templates),
    Operation("CreateInAppTemplate", "POST", _TEMPLATE + "/inapp", 201, templates.create_in_app_template),
    Operation("GetInAppTemplate", "GET", _TEMPLATE + "/inapp", 200, templates.get_in_app_template),
    Operation("UpdateInAppTemplate", "PUT", _TEMPLATE + "/inapp", 202, templates.update_in_app_template),
    Operation("DeleteInAppTemplate", "DELETE", _TEMPLATE + "/inapp", 202, templates.delete_in_app_template),
    Operation(
        "ListTemplateVersions", "GET", _TEMPLATE + "/{template_type}/versions", 200,
        templates.list_template_versions,
    ),
    Operation(
        "UpdateTemplateActiveVersion", "PUT", _TEMPLATE + "/{template_type}/active-version", 200,
        templates.update_template_active_version,
    ),
    # campaigns (§8)
    Operation("CreateCampaign", "POST", _APP + "/campaigns", 201, campaigns.create_campaign),
    Operation("GetCampaigns", "GET", _APP + "/campaigns", 200, campaigns.get_campaigns),
    Operation("GetCampaign", "GET", _CAMPAIGN, 200, campaigns.get_campaign),
    Operation("UpdateCampaign", "PUT", _CAMPAIGN, 200, campaigns.update_campaign),
    Operation("DeleteCampaign", "DELETE", _CAMPAIGN, 200, campaigns.delete_campaign),
    Operation("GetCampaignVersions", "GET", _CAMPAIGN + "/versions", 200, campaigns.get_campaign_versions),
    Operation("GetCampaignVersion", "GET", _CAMPAIGN + "/versions/{version}", 200, campaigns.get_campaign_version),
    # metrics (§11)
    Operation(
        "GetCampaignDateRangeKpi", "GET", _CAMPAIGN + "/kpis/daterange/{kpi_name}", 200,
        endpoints.get_campaign_date_range_kpi, "campaign-metrics", "campaign_id",
    ),
)

"""Collection+JSON documents: rendering items and collections, reading submitted bodies.

Every answer is ``{"collection": {"version": "1.0", "href", "links", "items", "queries",
"template"}}`` (plus ``error`` on failures, see :mod:`gpfskit.mgmt.errors`). Data values are
scalars: datetimes as ISO 8601 text, related objects as ``links`` of the item.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from gpfskit.mgmt.errors import APIError, FieldError
from gpfskit.mgmt.resources import Resource

VERSION = "1.0"
CJ_TYPE = "application/vnd.collection+json"


def scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value


def link(href: str, name: str, prompt: str, rel: str) -> dict[str, str]:
    return {"href": href, "prompt": prompt, "name": name, "render": "link", "rel": rel}


def item_href(resource: str, item_id: str) -> str:
    return f"/{resource}/{item_id}"


def jobs_href(resource: str, item_id: str) -> str:
    where = json.dumps({"resource_type": resource, "resource_id": item_id})
    return f"/jobs?where={where}"


def ids_href(resource: str, ids: list[str]) -> str:
    if len(ids) == 1:
        return f'/{resource}/?where=id=="{ids[0]}"'
    return f"/{resource}/?where=id in {json.dumps(ids)}"


def foreign_key(resource: Resource, relation_name: str) -> str:
    """The column holding a to-one relation's id (``profile`` -> ``profile_id``)."""
    prop = getattr(resource.model, relation_name).property
    return next(iter(prop.local_columns)).key


def item_links(resource: Resource, item: Any,
               related: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    """The item's links; ``related`` gives the ids of its to-many relations (relation ->
    ids) when they were read with it, else the loaded relationships are used."""
    links = []
    for relation in resource.relations:
        if relation.many:
            if related is not None:
                ids = related.get(relation.name, [])
            else:
                ids = [r.id for r in getattr(item, relation.name)]
            if ids:
                links.append(link(ids_href(relation.target, ids), relation.name,
                                  relation.prompt, relation.rel))
        else:
            target_id = getattr(item, foreign_key(resource, relation.name))
            if target_id is not None:
                links.append(link(item_href(relation.target, target_id), relation.name,
                                  relation.prompt, relation.rel))
    if resource.name == "jobs":
        if item.resource_type and item.resource_id:
            links.append(link(item_href(item.resource_type, item.resource_id), "resource",
                              "Resource", "resource"))
        links.append(link(f"/jobs/{item.id}/stderr", "stderr", "Stderr", "stderr"))
        links.append(link(f"/jobs/{item.id}/stdout", "Stdout", "Stdout", "stdout"))
    else:
        links.append(link(jobs_href(resource.name, item.id), "Jobs", "Jobs", "jobs"))
    return links


def render_item(resource: Resource, item: Any, fields: list[str],
                related: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """An item (a model object, or a row of a collection read) as Collection+JSON."""
    prompts = resource.fields_by_name()
    return {
        "href": item_href(resource.name, item.id),
        "data": [{"prompt": prompts[name].prompt, "name": name,
                  "value": scalar(getattr(item, name))} for name in fields],
        "links": item_links(resource, item, related),
    }


def queries(resource: Resource) -> list[dict[str, Any]]:
    return [{
        "prompt": search.title,
        "href": f'/{resource.name}?where={{"{search.field}":"{{{search.field}}}"}}',
        "data": [{"prompt": search.prompt, "name": search.field, "value": ""}],
        "rel": "search",
        "encoding": "uri-template",
    } for search in resource.searches]


def template(resource: Resource) -> dict[str, Any] | None:
    if not resource.creatable:
        return None
    prompts = {f.name: f.prompt for f in resource.fields}
    prompts.update({r.name: r.prompt for r in resource.relations})
    return {"data": [{"prompt": prompts[name], "name": name, "value": ""}
                     for name in resource.template_names()]}


def collection(href: str, *, resource: Resource | None = None, items: list | None = None,
               links: list | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"version": VERSION, "href": href, "links": links or [],
                            "items": items or []}
    if resource is not None:
        body["queries"] = queries(resource)
        tmpl = template(resource)
        if tmpl is not None:
            body["template"] = tmpl
    return {"collection": body}


def error_document(href: str, error: APIError) -> dict[str, Any]:
    err: dict[str, Any] = {"title": error.title, "code": error.status, "message": error.message}
    if error.details:
        err["details"] = error.details
    return {"collection": {"version": VERSION, "href": href, "error": err}}


def read_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A submitted document as ``{field: value}``: a C+J template or a plain JSON object."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise APIError(400, "form-encoded bodies are not accepted: send JSON with "
                            f"Content-Type {CJ_TYPE} or application/json")
    if not raw.strip():
        raise APIError(400, "the request has no body: send a Collection+JSON template or "
                            "a JSON object")
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise APIError(400, f"the body is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise APIError(400, "the body must be a JSON object")
    if "template" in document or kind == CJ_TYPE:
        return _template_values(document)
    return document


def _template_values(document: dict[str, Any]) -> dict[str, Any]:
    shape = 'a Collection+JSON body is {"template": {"data": [{"name": ..., "value": ...}]}}'
    tmpl = document.get("template")
    data = tmpl.get("data") if isinstance(tmpl, dict) else None
    if not isinstance(data, list) or set(document) != {"template"}:
        raise APIError(400, shape)
    values: dict[str, Any] = {}
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or "value" not in entry:
            raise APIError(400, shape)
        if entry["name"] in values:
            raise APIError(400, f"field {entry['name']!r} is given twice")
        values[entry["name"]] = entry["value"]
    return values


def reference_ids(field: str, target: str, value: Any) -> list[str]:
    """The ids named by hrefs or ids: one, a comma-separated string, or a JSON list."""
    if value is None or value == "":
        return []
    parts = value if isinstance(value, list) else (
        value.split(",") if isinstance(value, str) else None)
    if parts is None or not all(isinstance(p, str) for p in parts):
        raise FieldError(field, "must be hrefs or ids (comma-separated)")
    ids = []
    for part in (p.strip() for p in parts):
        path = urlsplit(part).path.rstrip("/")
        segments = path.split("/")
        if len(segments) >= 2 and segments[-2] != target and "/" in path:
            raise FieldError(field, f"{part!r} is not an href of /{target}/")
        ids.append(segments[-1])
    return ids

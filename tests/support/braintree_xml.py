"""XML as the Braintree gateway writes it: dashed tags, typed leaves, `api-error-response`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.braintree_fake import Transaction

MERCHANT_ID = "lbj_merchant"


def tag(element: ET.Element) -> str:
    return element.tag.replace("-", "_")


def text(element: ET.Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def node(tag: str, value: object = None, **attributes: str) -> ET.Element:
    element = ET.Element(tag.replace("_", "-"), attributes)
    if value is None:
        element.set("nil", "true")
    elif isinstance(value, bool):
        element.set("type", "boolean")
        element.text = str(value).lower()
    elif isinstance(value, int):
        element.set("type", "integer")
        element.text = str(value)
    elif isinstance(value, datetime):
        element.set("type", "datetime")
        element.text = value.strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        element.text = str(value)
    return element


def parent(tag: str, *children: ET.Element, **attributes: str) -> ET.Element:
    element = ET.Element(tag.replace("_", "-"), attributes)
    element.extend(children)
    return element


def transaction(t: Transaction) -> ET.Element:
    return parent(
        "transaction",
        node("id", t.id),
        node("status", t.status),
        node("type", "sale"),
        node("amount", f"{t.amount:.2f}"),
        node("currency_iso_code", t.currency),
        node("order_id", t.order_id),
        node("merchant_account_id", MERCHANT_ID),
        node("processor_response_code", t.processor_code),
        node("processor_response_text", t.processor_text),
        node("gateway_rejection_reason", t.rejection_reason),
        node("created_at", t.created_at),
        node("updated_at", t.created_at),
        parent("customer", node("id", t.customer_id)),
        parent(
            "credit_card",
            node("token", t.token),
            node("last_4", "1111"),
            node("card_type", "Visa"),
            node("expired", False),
        ),
    )


def declined(t: Transaction) -> bytes:
    errors = parent("errors", ET.Element("errors", {"type": "array"}))
    message = node("message", t.processor_text or f"Gateway Rejected: {t.rejection_reason}")
    return xml(parent("api_error_response", errors, message, transaction(t)))


def validation_error(code: str, attribute: str, message: str) -> bytes:
    error = parent(
        "error", node("code", code), node("attribute", attribute), node("message", message)
    )
    on_transaction = parent("transaction", parent("errors", error, type="array"))
    errors = parent("errors", ET.Element("errors", {"type": "array"}), on_transaction)
    return xml(parent("api_error_response", errors, node("message", message)))


def search_ids(ids: list[str]) -> bytes:
    items = [node("item", i) for i in ids]
    return xml(parent("search_results", node("page_size", 50), parent("ids", *items, type="array")))


def collection(transactions: list[Transaction]) -> bytes:
    return xml(
        parent(
            "credit_card_transactions",
            node("current_page_number", 1),
            node("page_size", 50),
            node("total_items", len(transactions)),
            *[transaction(t) for t in transactions],
            type="collection",
        )
    )


def xml(element: ET.Element) -> bytes:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return (declaration + ET.tostring(element, encoding="unicode")).encode()

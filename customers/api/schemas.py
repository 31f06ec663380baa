"""JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it) for the API: the request bodies
derived from the forms that check them, and the building blocks of the response schemas
the endpoints declare."""

import jsonschema_rs
from django import forms

from customers.api import forms as api_forms

ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
STRING = {"type": "string"}
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "Money, two decimals"}
DATETIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
# A query parameter's day; empty is the same as left out.
DAY_PARAMETER = {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"}
BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
ERRORS = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": STRING},
            "description": "Messages by field; `__all__` for the request as a whole",
        }
    },
    "required": ["errors"],
}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def array(items, **extra):
    return {"type": "array", "items": items, **extra}


def enum(values, **extra):
    return {"type": "string", "enum": list(values), **extra}


def obj(properties=None, optional=None, **extra):
    """An object whose `properties` are always present and `optional` ones may be."""
    properties = properties or {}
    schema = {"type": "object", "properties": {**properties, **(optional or {})}, **extra}
    if properties:
        schema["required"] = list(properties)
    return schema


def binary(media_type):
    """A response that is a file of `media_type`, not JSON (the OpenAPI document gives it
    that content type)."""
    return {"type": "string", "contentMediaType": media_type}


def page(item):
    """A cursor-paged list: `next` is the cursor of the following page, null on the last."""
    return obj({"results": array(item), "next": nullable(STRING)})


# Request bodies from forms -----------------------------------------------------------------


def form_schema(form_class):
    form = form_class()
    properties = {name: field_schema(field) for name, field in form.fields.items()}
    schema = {"type": "object", "properties": properties}
    required = [name for name, field in form.fields.items() if field.required]
    if required:
        schema["required"] = required
    return schema


def field_schema(field):
    """What the field takes as JSON. It may be looser than the field (the form has the last
    word on what is valid) but never stricter, or a good request would be refused."""
    schema = base_schema(field)
    if field.help_text:
        schema["description"] = str(field.help_text)
    if not field.required:
        return nullable(schema)
    return schema


def base_schema(field):
    if isinstance(field, api_forms.NestedFormListField):
        return array(form_schema(field.form_class), maxItems=field.max_length)
    if isinstance(field, api_forms.NestedFormField):
        return form_schema(field.form_class)
    if isinstance(field, api_forms.JsonBooleanField):
        return dict(BOOLEAN)
    if isinstance(field, api_forms.CustomerIdField):
        return {"type": "integer", "minimum": 1, "maximum": api_forms.MAX_ID}
    if isinstance(field, api_forms.IdListField):
        return array({"type": "integer", "minimum": 1, "maximum": api_forms.MAX_ID})
    if isinstance(field, api_forms.FieldChoicesField):
        return {"type": "object", "additionalProperties": {"type": "integer"}}
    if isinstance(field, (forms.ChoiceField,)):
        return enum(value for value, _ in field.choices if value != "")
    if isinstance(field, api_forms.NumberField):
        return number_schema(field, {"type": ["number", "string"]})
    if isinstance(field, api_forms.WholeNumberField):
        return number_schema(field, {"type": ["integer", "string"]})
    if isinstance(field, forms.DateTimeField):
        return dict(DATETIME)
    if isinstance(field, forms.DateField):
        return dict(DATE)
    if isinstance(field, forms.CharField):
        schema = dict(STRING)
        if field.max_length:
            schema["maxLength"] = field.max_length
        return schema
    return {}


def number_schema(field, schema):
    # The bounds hold for numbers; a string is read as one by the form, which checks it.
    if field.min_value is not None:
        schema["minimum"] = float(field.min_value)
    if field.max_value is not None:
        schema["maximum"] = float(field.max_value)
    return schema


# Errors of a request against its schema ----------------------------------------------------


def refusals(error):
    """(field, message) of each thing wrong in one error: a property the schema does not
    take is refused under its own name."""
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        path = [str(part) for part in error.instance_path]
        return [(".".join([*path, name]), "Unknown field.") for name in error.kind.as_dict()["unexpected"]]
    return [(error_field(error), error_message(error))]


def error_field(error):
    """`items.0.price` for the price of the first item; the missing property's name for one
    left out; `body` for the object itself."""
    path = [str(part) for part in error.instance_path]
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(error.kind.property)
    return ".".join(path) or "body"


TYPE_NAMES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def error_message(error):
    """The schema's refusal in the words of the forms' messages."""
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return "This field is required."
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        types = kind.as_dict()["types"]
        return "Enter " + " or ".join(TYPE_NAMES.get(name, name) for name in types) + "."
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return "Choose one of: " + ", ".join(str(option) for option in kind.as_dict()["options"]) + "."
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        return "Enter a valid value."
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinItems):
        return f"Send at least {items(kind.as_dict()['limit'])}."
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MaxItems):
        return f"Send at most {items(kind.as_dict()['limit'])} at a time."
    return error.message


def items(count):
    return f"{count:,} item" + ("" if count == 1 else "s")

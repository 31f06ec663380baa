"""The grammar of segment rules and its checks.

A rule tree is a group `{"operator": "AND"|"OR", "rules": [rule or group, ...], "negate": bool}`
("negate" optional); a rule is `{"field", "operator", "value", "timeframe"}` (timeframe only
for the fields that take one). `clean_rules` returns the tree in its normalized shape or
raises RuleError with one message per problem, each naming where it is:
"rules[1].rules[0].value: a number is needed".
"""

import json
import math
from datetime import date

from django.core.exceptions import ValidationError

from segments.rules.fields import (
    BOOLEAN,
    CHOICE,
    DATE,
    FIELDS,
    MONEY,
    NONE,
    NUMBER,
    REQUIRED,
    TAGS,
    TIMEFRAMES,
)

MAX_DEPTH = 5
MAX_NODES = 100
MAX_LIST = 100
MAX_TEXT = 200
MAX_NUMBER = 10**12
MAX_DAYS = 36_500
GROUP_KEYS = {"operator", "rules", "negate"}
RULE_KEYS = {"field", "operator", "value", "timeframe"}
TIMEFRAME_NAMES = ", ".join(TIMEFRAMES)


class RuleError(ValidationError):
    """A rule tree that cannot be used; `.messages` point at each problem."""


class Invalid(Exception):
    """One problem of one value, raised inside the checks and collected with its path."""


def clean_rules(data):
    """The validated, normalized rule tree of `data` (a dict, or its JSON text)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise RuleError(["rules: this is not valid JSON"]) from None
    errors = []
    counter = [0]
    if not isinstance(data, dict):
        raise RuleError(["rules: a group {operator, rules} is needed"])
    cleaned = clean_group(data, "", 1, errors, counter)
    if counter[0] > MAX_NODES:
        errors.insert(0, f"rules: at most {MAX_NODES} rules and groups in all")
    if errors:
        raise RuleError(errors)
    return cleaned


def at(path, key):
    return f"{path}.{key}" if path else key


def clean_group(group, path, depth, errors, counter):
    for key in sorted(set(group) - GROUP_KEYS):
        errors.append(f"{path or 'rules'}: unknown key “{str(key)[:50]}”")
    operator = group.get("operator")
    if operator not in ("AND", "OR"):
        errors.append(f"{at(path, 'operator')}: AND or OR is needed")
    negate = group.get("negate", False)
    if not isinstance(negate, bool):
        errors.append(f"{at(path, 'negate')}: true or false is needed")
    rules = group.get("rules")
    if not isinstance(rules, list):
        errors.append(f"{at(path, 'rules')}: a list of rules is needed")
        return None
    if not rules:
        errors.append(f"{at(path, 'rules')}: a group needs at least one rule")
    cleaned = []
    for index, item in enumerate(rules):
        counter[0] += 1
        if counter[0] > MAX_NODES:
            return None
        item_path = f"{at(path, 'rules')}[{index}]"
        if not isinstance(item, dict):
            errors.append(
                f"{item_path}: a rule {{field, operator, value}} or a group {{operator, rules}} is needed"
            )
        elif "field" in item:
            cleaned.append(clean_rule(item, item_path, errors))
        elif "rules" in item:
            if depth >= MAX_DEPTH:
                errors.append(f"{item_path}: groups nest at most {MAX_DEPTH} deep")
            else:
                cleaned.append(clean_group(item, item_path, depth + 1, errors, counter))
        else:
            errors.append(f"{item_path}: a rule needs a field, a group needs rules")
    result = {"operator": operator, "rules": cleaned}
    if negate is True:
        result["negate"] = True
    return result


def clean_rule(rule, path, errors):
    for key in sorted(set(rule) - RULE_KEYS):
        errors.append(f"{path}: unknown key “{str(key)[:50]}”")
    name = rule.get("field")
    field = FIELDS.get(name) if isinstance(name, str) else None
    if field is None:
        shown = name[:50] if isinstance(name, str) else json.dumps(name)[:50]
        errors.append(f"{path}.field: there is no field “{shown}”")
        return None
    operator = rule.get("operator")
    if operator not in field.operators:
        shown = operator[:50] if isinstance(operator, str) else json.dumps(operator)[:50]
        errors.append(f"{path}.operator: {name} takes {', '.join(field.operators)}, not “{shown}”")
        return None
    cleaned = {"field": name, "operator": operator}
    timeframe = rule.get("timeframe")
    if field.timeframe == NONE and timeframe is not None:
        errors.append(f"{path}.timeframe: {name} takes no timeframe")
    elif field.timeframe == REQUIRED and timeframe is None:
        errors.append(f"{path}.timeframe: a timeframe is needed ({TIMEFRAME_NAMES})")
    elif timeframe is not None and timeframe not in TIMEFRAMES:
        shown = timeframe[:50] if isinstance(timeframe, str) else json.dumps(timeframe)[:50]
        errors.append(f"{path}.timeframe: “{shown}” is not a timeframe ({TIMEFRAME_NAMES})")
    elif field.timeframe != NONE:
        cleaned["timeframe"] = timeframe or "lifetime"
    if "value" not in rule:
        errors.append(f"{path}.value: a value is needed")
        return cleaned
    try:
        cleaned["value"] = clean_value(field, operator, rule["value"])
    except Invalid as problem:
        where, message = problem.args if len(problem.args) == 2 else ("", problem.args[0])
        errors.append(f"{path}.value{where}: {message}")
    return cleaned


def clean_value(field, operator, value):
    if operator == "is_set":
        return boolean(value)
    if operator in ("more_than_days_ago", "less_than_days_ago"):
        return days(value)
    if operator == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise Invalid("a list [low, high] is needed")
        low, high = (item(field, value[index], f"[{index}]") for index in (0, 1))
        if (date.fromisoformat(low) > date.fromisoformat(high)) if field.type == DATE else low > high:
            raise Invalid("low must not be above high")
        return [low, high]
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise Invalid("a list of one or more values is needed")
        if len(value) > MAX_LIST:
            raise Invalid(f"at most {MAX_LIST} values")
        items = [item(field, entry, f"[{index}]") for index, entry in enumerate(value)]
        return list(dict.fromkeys(items))
    return item(field, value)


def item(field, value, where=""):
    """One value of the field's type, normalized; Invalid(where, message) if it is not one."""
    try:
        return single(field, value)
    except Invalid as problem:
        raise Invalid(where, problem.args[0]) from None


def single(field, value):
    if field.type in (NUMBER, MONEY):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid("a whole number is needed" if field.whole_numbers else "a number is needed")
        lowest, highest = field.bounds or (-MAX_NUMBER, MAX_NUMBER)
        if not lowest <= value <= highest:
            raise Invalid(f"a number from {lowest} to {highest} is needed")
        if field.whole_numbers and value != int(value):
            raise Invalid("a whole number is needed")
        return int(value) if field.whole_numbers else value
    if field.type == BOOLEAN:
        return boolean(value)
    if field.type == DATE:
        if not isinstance(value, str):
            raise Invalid("a date YYYY-MM-DD is needed")
        try:
            day = date.fromisoformat(value.strip()) if len(value) <= 10 else None
        except ValueError:
            day = None
        if day is None or not 1900 <= day.year <= 2100:
            raise Invalid("a date YYYY-MM-DD between 1900 and 2100 is needed")
        return day.isoformat()
    text = value.strip() if isinstance(value, str) else None
    if not text:
        raise Invalid("a tag name is needed" if field.type == TAGS else "a text is needed")
    if len(text) > MAX_TEXT or "\x00" in text:
        raise Invalid(f"at most {MAX_TEXT} characters, without NUL")
    if field.type == CHOICE:
        canonical = {str(key).upper(): key for key, _ in field.choices}
        if text.upper() not in canonical:
            names = [str(key) for key, _ in field.choices]
            shown = ", ".join(names) if len(names) <= 12 else ", ".join(names[:12]) + ", …"
            raise Invalid(f"“{text[:50]}” is not one of {shown}")
        return canonical[text.upper()]
    return text


def boolean(value):
    if not isinstance(value, bool):
        raise Invalid("true or false is needed")
    return value


def days(value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid("a whole number of days is needed")
    if value != int(value) or not 0 <= value <= MAX_DAYS:
        raise Invalid(f"a whole number of days from 0 to {MAX_DAYS} is needed")
    return int(value)

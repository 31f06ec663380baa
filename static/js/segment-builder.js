/*
 * The segment rule builder (templates/segments/rule_builder.html): turns the rules' JSON
 * textarea into nested groups of rules, with AND/OR and "not" on each group, rules and
 * groups to add and remove, and for each rule the operators and the value input its field
 * takes (a list for choices, a number, a date, a number of days, a list of tags or texts).
 * Every change is written back into the textarea, which the form posts and the server
 * validates; "Edit as JSON" shows it. Without JavaScript the textarea is all there is.
 *
 * The fields come from the json_script named by [data-fields]. With [data-preview-url], the
 * rules are posted there (form field "rules", the form's CSRF token) half a second after the
 * last change; the answer is shown in [data-builder-preview]:
 *   {"count": n, "sample": [ids]}            n customers match; with "members":
 *                                            [{"name", "url"}], a list of links to them
 *   {"errors": {"rules": ["message", ...]}}  the messages
 *   {"error": "message"}                     the message (a preview that took too long)
 * Each change also dispatches "segment-rules-change" on the builder, detail = the rules.
 */
(function () {
  "use strict";

  var MAX_DEPTH = 5;

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attributes[name];
      } else {
        node.setAttribute(name, attributes[name]);
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(child);
      }
    });
    return node;
  }

  function select(label, options, value, role) {
    var node = element("select", { "aria-label": label, "data-role": role });
    options.forEach(function (option) {
      var item = element("option", { value: option[0], text: option[1] });
      if (String(option[0]) === String(value)) {
        item.selected = true;
      }
      node.appendChild(item);
    });
    return node;
  }

  function button(text, role, label) {
    return element("button", { type: "button", "class": "btn btn-secondary btn-small", "data-role": role, "aria-label": label || text, text: text });
  }

  function Builder(root) {
    var spec = JSON.parse(document.getElementById(root.getAttribute("data-fields")).textContent);
    this.root = root;
    this.tree = root.querySelector("[data-builder-tree]");
    this.textarea = root.querySelector("[data-builder-json]");
    this.jsonBox = root.querySelector("[data-builder-json-box]");
    this.preview = root.querySelector("[data-builder-preview]");
    this.previewUrl = root.getAttribute("data-preview-url");
    this.fieldList = spec.fields;
    this.fields = {};
    this.operatorLabels = spec.operators;
    this.timeframeLabels = spec.timeframes;
    this.timer = null;
    var self = this;
    spec.fields.forEach(function (field) { self.fields[field.name] = field; });
  }

  Builder.prototype.start = function () {
    var self = this;
    var model = this.parse(this.textarea.value);
    if (model === null) {
      return; // JSON the builder cannot show: the textarea stays, the server says what is wrong
    }
    this.model = model;
    this.render();
    this.tree.hidden = false;
    this.jsonBox.hidden = true;
    var tools = this.root.querySelector("[data-builder-tools]");
    var toggle = this.root.querySelector("[data-builder-toggle]");
    tools.hidden = false;
    toggle.addEventListener("click", function () {
      var showing = self.jsonBox.hidden;
      self.jsonBox.hidden = !showing;
      toggle.setAttribute("aria-expanded", String(showing));
      toggle.textContent = showing ? "Hide JSON" : "Edit as JSON";
    });
    this.textarea.addEventListener("change", function () {
      var edited = self.parse(self.textarea.value);
      if (edited !== null) {
        self.model = edited;
        self.render();
        self.changed(false);
      }
    });
    if (this.model.rules.length) {
      this.schedulePreview();
    }
  };

  // The rules as the builder can show them, or null.
  Builder.prototype.parse = function (text) {
    if (!text.trim()) {
      return { operator: "AND", rules: [] };
    }
    try {
      var data = JSON.parse(text);
      return this.showable(data, 1) ? data : null;
    } catch (error) {
      return null;
    }
  };

  Builder.prototype.showable = function (group, depth) {
    var self = this;
    if (!group || typeof group !== "object" || !Array.isArray(group.rules) || depth > MAX_DEPTH) {
      return false;
    }
    if (group.operator !== "AND" && group.operator !== "OR") {
      return false;
    }
    return group.rules.every(function (item) {
      if (item && typeof item === "object" && "field" in item) {
        return Object.prototype.hasOwnProperty.call(self.fields, item.field);
      }
      return self.showable(item, depth + 1);
    });
  };

  Builder.prototype.changed = function (writeBack) {
    if (writeBack !== false) {
      this.textarea.value = JSON.stringify(this.model, null, 2);
    }
    this.root.dispatchEvent(new CustomEvent("segment-rules-change", { detail: this.model, bubbles: true }));
    this.schedulePreview();
  };

  Builder.prototype.render = function () {
    this.tree.replaceChildren(this.renderGroup(this.model, null, 1));
    var added = this.tree.querySelector("[data-focus]");
    if (added) {
      added.removeAttribute("data-focus");
      added.focus(); // the field of the rule just added
    }
    this.focusRule = null;
  };

  Builder.prototype.renderGroup = function (group, parent, depth) {
    var self = this;
    var box = element("fieldset", { "class": "segment-builder-group", "data-depth": String(depth) });
    var legend = element("legend", { "class": "segment-builder-legend" });
    var operator = select("Match", [["AND", "All of"], ["OR", "Any of"]], group.operator, "group-operator");
    operator.addEventListener("change", function () {
      group.operator = operator.value;
      self.changed();
    });
    var negate = element("input", { type: "checkbox", "data-role": "negate" });
    negate.checked = group.negate === true;
    negate.addEventListener("change", function () {
      if (negate.checked) {
        group.negate = true;
      } else {
        delete group.negate;
      }
      self.changed();
    });
    legend.appendChild(element("label", { "class": "segment-builder-negate" }, [negate, document.createTextNode(" Not")]));
    legend.appendChild(operator);
    legend.appendChild(element("span", { "class": "muted", text: depth === 1 ? " these rules" : " these" }));
    box.appendChild(legend);

    var list = element("ul", { "class": "segment-builder-rules" });
    group.rules.forEach(function (item) {
      var row = element("li");
      row.appendChild("field" in item ? self.renderRule(item, group) : self.renderGroup(item, group, depth + 1));
      list.appendChild(row);
    });
    if (!group.rules.length) {
      list.appendChild(element("li", { "class": "muted", text: "No rules yet." }));
    }
    box.appendChild(list);

    var actions = element("div", { "class": "segment-builder-actions" });
    var addRule = button("Add rule", "add-rule");
    addRule.addEventListener("click", function () {
      self.focusRule = self.newRule();
      group.rules.push(self.focusRule);
      self.render();
      self.changed();
    });
    actions.appendChild(addRule);
    if (depth < MAX_DEPTH) {
      var addGroup = button("Add group", "add-group");
      addGroup.addEventListener("click", function () {
        self.focusRule = self.newRule();
        group.rules.push({ operator: group.operator === "AND" ? "OR" : "AND", rules: [self.focusRule] });
        self.render();
        self.changed();
      });
      actions.appendChild(addGroup);
    }
    if (parent) {
      var remove = button("Remove group", "remove-group");
      remove.addEventListener("click", function () {
        parent.rules.splice(parent.rules.indexOf(group), 1);
        self.render();
        self.changed();
      });
      actions.appendChild(remove);
    }
    box.appendChild(actions);
    return box;
  };

  Builder.prototype.newRule = function () {
    var field = this.fieldList[0];
    var rule = { field: field.name, operator: field.operators[0] };
    this.reset(rule);
    return rule;
  };

  // A value and timeframe the rule's field and operator take.
  Builder.prototype.reset = function (rule) {
    var field = this.fields[rule.field];
    var shape = this.shape(field, rule.operator);
    if (shape === "flag") {
      rule.value = true;
    } else if (shape === "days") {
      rule.value = 30;
    } else if (shape === "range") {
      rule.value = [null, null];
    } else if (shape === "list") {
      rule.value = [];
    } else if (field.type === "choice") {
      rule.value = field.choices.length ? field.choices[0][0] : "";
    } else if (field.type === "boolean") {
      rule.value = true;
    } else if (field.type === "number" || field.type === "money") {
      rule.value = null;
    } else {
      rule.value = "";
    }
    if (field.timeframe === "required") {
      rule.timeframe = rule.timeframe || "lifetime";
    } else if (field.timeframe === "none") {
      delete rule.timeframe;
    }
  };

  Builder.prototype.shape = function (field, operator) {
    if (operator === "is_set") {
      return "flag";
    }
    if (operator === "more_than_days_ago" || operator === "less_than_days_ago") {
      return "days";
    }
    if (operator === "between") {
      return "range";
    }
    if (operator === "in" || operator === "not_in") {
      return "list";
    }
    return "single";
  };

  Builder.prototype.renderRule = function (rule, group) {
    var self = this;
    var field = this.fields[rule.field];
    var row = element("div", { "class": "segment-builder-rule" });

    var fieldSelect = select("Field", this.fieldList.map(function (f) { return [f.name, f.label]; }), rule.field, "field");
    if (rule === this.focusRule) {
      fieldSelect.setAttribute("data-focus", "");
    }
    fieldSelect.addEventListener("change", function () {
      rule.field = fieldSelect.value;
      var next = self.fields[rule.field];
      if (next.operators.indexOf(rule.operator) === -1) {
        rule.operator = next.operators[0];
      }
      delete rule.timeframe;
      self.reset(rule);
      self.replaceRule(row, rule, group, "field");
      self.changed();
    });
    row.appendChild(fieldSelect);

    if (field.timeframe !== "none") {
      var timeframes = Object.keys(this.timeframeLabels).map(function (key) { return [key, self.timeframeLabels[key]]; });
      if (field.timeframe === "optional") {
        timeframes.unshift(["", "any time"]);
      }
      var timeframe = select("Timeframe", timeframes, rule.timeframe || "", "timeframe");
      timeframe.addEventListener("change", function () {
        if (timeframe.value) {
          rule.timeframe = timeframe.value;
        } else {
          delete rule.timeframe;
        }
        self.changed();
      });
      row.appendChild(timeframe);
    }

    var operator = select("Operator", field.operators.map(function (name) { return [name, self.operatorLabels[name] || name]; }), rule.operator, "operator");
    operator.addEventListener("change", function () {
      var before = self.shape(field, rule.operator);
      rule.operator = operator.value;
      if (self.shape(field, rule.operator) !== before) {
        self.reset(rule);
      }
      self.replaceRule(row, rule, group, "operator");
      self.changed();
    });
    row.appendChild(operator);

    this.valueInputs(field, rule).forEach(function (input) { row.appendChild(input); });

    var remove = button("Remove", "remove-rule", "Remove rule");
    remove.addEventListener("click", function () {
      group.rules.splice(group.rules.indexOf(rule), 1);
      self.render();
      self.changed();
    });
    row.appendChild(remove);
    return row;
  };

  Builder.prototype.replaceRule = function (row, rule, group, focusRole) {
    var next = this.renderRule(rule, group);
    row.replaceWith(next);
    next.querySelector("[data-role=" + focusRole + "]").focus();
  };

  function number(text) {
    if (text.trim() === "") {
      return null;
    }
    var value = Number(text);
    return isFinite(value) ? value : text; // the server names what is wrong with it
  }

  function list(text) {
    return text.split(",").map(function (item) { return item.trim(); }).filter(function (item) { return item; });
  }

  Builder.prototype.valueInputs = function (field, rule) {
    var self = this;
    var shape = this.shape(field, rule.operator);

    function input(label, type, value, store) {
      var node = element("input", { type: type, "aria-label": label, "data-role": "value" });
      if (type === "number") {
        var bounds = shape === "days" ? [0, 36500] : field.bounds;
        node.setAttribute("step", field.whole_numbers || shape === "days" ? "1" : "any");
        if (bounds) {
          node.setAttribute("min", String(bounds[0]));
          node.setAttribute("max", String(bounds[1]));
        }
      }
      node.value = value === null || value === undefined ? "" : String(value);
      node.addEventListener("input", function () {
        store(node.value);
        self.changed();
      });
      return node;
    }

    if (shape === "flag" || field.type === "boolean") {
      var flag = select("Value", [["true", "yes"], ["false", "no"]], String(rule.value), "value");
      flag.addEventListener("change", function () {
        rule.value = flag.value === "true";
        self.changed();
      });
      return [flag];
    }
    if (shape === "days") {
      return [
        input("Days", "number", rule.value, function (text) { rule.value = number(text); }),
        element("span", { "class": "muted", text: "days ago" }),
      ];
    }
    var type = field.type === "date" ? "date" : field.type === "number" || field.type === "money" ? "number" : "text";
    var convert = type === "number" ? number : function (text) { return text; };
    if (shape === "range") {
      var range = Array.isArray(rule.value) ? rule.value : [null, null];
      rule.value = range;
      return [
        input("From", type, range[0], function (text) { range[0] = convert(text); }),
        element("span", { "class": "muted", text: "and" }),
        input("To", type, range[1], function (text) { range[1] = convert(text); }),
      ];
    }
    if (field.type === "choice") {
      var chosen = shape === "list" ? (Array.isArray(rule.value) ? rule.value : []) : [rule.value];
      var choices = select("Value", field.choices, null, "value");
      if (shape === "list") {
        choices.multiple = true;
        choices.size = Math.min(6, field.choices.length);
      }
      Array.prototype.forEach.call(choices.options, function (option) {
        option.selected = chosen.indexOf(option.value) !== -1;
      });
      choices.addEventListener("change", function () {
        var values = Array.prototype.filter.call(choices.options, function (option) { return option.selected; })
          .map(function (option) { return option.value; });
        rule.value = shape === "list" ? values : values[0];
        self.changed();
      });
      return [choices];
    }
    if (shape === "list") {
      var label = field.type === "tags" ? "Tags, separated by commas" : "Values, separated by commas";
      var items = input(label, "text", (rule.value || []).join(", "), function (text) { rule.value = list(text); });
      items.setAttribute("placeholder", field.type === "tags" ? "vip, newsletter" : "one, two");
      return [items];
    }
    return [input(field.type === "tags" ? "Tag" : "Value", type, rule.value, function (text) { rule.value = convert(text); })];
  };

  Builder.prototype.schedulePreview = function () {
    var self = this;
    if (!this.previewUrl || !this.preview) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.askPreview(); }, 500);
  };

  Builder.prototype.askPreview = function () {
    var self = this;
    var form = this.root.closest("form");
    var token = form ? form.querySelector("[name=csrfmiddlewaretoken]") : null;
    var body = new URLSearchParams();
    body.set("rules", this.textarea.value);
    var sent = this.textarea.value;
    this.preview.textContent = "Counting…";
    fetch(this.previewUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (sent === self.textarea.value) {
          self.showPreview(answer);
        }
      })
      .catch(function () {
        self.showPreview({ error: "The preview is not available right now." });
      });
  };

  Builder.prototype.showPreview = function (answer) {
    var messages = answer.errors ? [].concat.apply([], Object.keys(answer.errors).map(function (key) { return answer.errors[key]; })) : [];
    if (answer.error) {
      messages.push(answer.error);
    }
    if (messages.length) {
      this.preview.className = "segment-builder-preview alert alert-warning";
      this.preview.replaceChildren.apply(this.preview, messages.map(function (message) { return element("p", { text: message }); }));
      return;
    }
    this.preview.className = "segment-builder-preview alert alert-info";
    var count = answer.count === 1 ? "1 customer matches" : answer.count + " customers match";
    this.preview.replaceChildren(element("p", { "data-preview-count": String(answer.count), text: count }));
    if (Array.isArray(answer.members) && answer.members.length) {
      this.preview.appendChild(element("ul", { "class": "segment-builder-sample", "aria-label": "First members" }, answer.members.map(function (member) {
        return element("li", {}, [element("a", { href: member.url, text: member.name })]);
      })));
    }
  };

  document.querySelectorAll("[data-segment-builder]").forEach(function (root) {
    if (!root.hasAttribute("data-builder-started")) {
      root.setAttribute("data-builder-started", "");
      new Builder(root).start();
    }
  });
})();

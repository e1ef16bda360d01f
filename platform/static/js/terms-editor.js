// Terms editor: draws a form for an offer's terms from the pydantic JSON schema of its type
// (GET /offers/schema/<kind>.json) and reads the form back as the JSON the offer services validate.
//
//   const editor = TermsEditor.mount(container, {kind, initial, schemaUrl});   // schemaUrl is optional
//   editor.getTerms()                       -> {kind, schema_version, ...}, the terms as the schema wants them
//   editor.showErrors([{field, message}])   -> each message next to the field its dotted path names
//                                              ("tranches.1.share_bp"; "" for the terms as a whole)
//   editor.ready                            -> a Promise, resolved once the form is drawn
//   editor.destroy()                        -> empties the container
// Optional: {organisations: [{id, name}]} turns `*_organisation_id` fields into a choice among them.
//
// What the schema says and how it is drawn (conventions of offers/terms/common.py):
// - Money ($defs/Money) is typed as an amount in major units with a currency, and sent in minor units;
// - integers whose name ends in `_bp` are basis points, typed as percentages (12.5 -> 1250);
// - `format: date` strings are date inputs; enums are selects, arrays of enums are checkboxes;
// - arrays of plain codes (territories, languages) are one input of comma-separated codes;
// - other arrays (service lines, tranches, instalments, deliverables...) are rows to add and remove;
// - `X | None` objects get a checkbox that includes them; empty optional fields are left out.
//
// Pages can also declare an editor, mounted when the page loads:
//   <div data-terms-editor data-kind="sales" data-schema-url=".../__kind__.json" data-initial="json-id"
//        data-errors="json-id" data-input="hidden-input-id" data-kind-source="kind-select-id"></div>
// On submit of the input's form, the terms are written to the hidden input as JSON.
//
// Every visible string goes through Django's JavaScript catalogue (/jsi18n/ must load first).
(function () {
  "use strict";

  // Django's JavaScript catalog (jsi18n), loaded just before this script on every page that uses it.
  const { gettext, interpolate } = window;

  // --- Labels -------------------------------------------------------------------------------------------
  // Fallbacks only: the schema carries each field's label (its "title") and each row's name
  // ("x-row-title") in the reader's language, from offers/terms/labels.py.

  const FIELD_LABELS = {
    provider_organisation_id: gettext("Provider organisation"),
    service_lines: gettext("Services"),
    category: gettext("Category"),
    quantity: gettext("Quantity"),
    unit: gettext("Unit"),
    value: gettext("Value"),
    languages: gettext("Languages"),
    description: gettext("Description"),
    facility: gettext("Facility"),
    country: gettext("Country"),
    city: gettext("City"),
    time_window: gettext("Time window"),
    start: gettext("Start"),
    end: gettext("End"),
    deliverables: gettext("Deliverables"),
    consideration: gettext("What the provider asks in return"),
    credit: gettext("Credit"),
    logo: gettext("Logo"),
    co_production_share_bp: gettext("Co-production share"),
    rights_territories: gettext("Rights in territories"),
    include: gettext("Territories included"),
    exclude: gettext("Territories excluded"),
    signature_deadline: gettext("Signature deadline"),
    amount: gettext("Amount"),
    currency: gettext("Currency"),
    tranches: gettext("Tranches"),
    share_bp: gettext("Share"),
    trigger: gettext("Payable"),
    date: gettext("Date"),
    conditions: gettext("Conditions"),
    recoupment_position: gettext("Recoupment position"),
    credit_obligations: gettext("Credit obligations"),
    report_deadlines: gettext("Report deadlines"),
    territories: gettext("Territories"),
    media: gettext("Media and rights"),
    exclusive: gettext("Exclusive"),
    term: gettext("Term"),
    years: gettext("Years"),
    minimum_guarantee: gettext("Minimum guarantee"),
    payment_schedule: gettext("Payment schedule of the minimum guarantee"),
    distributor_share_bp: gettext("Distributor's share of revenue"),
    distribution_fee_bp: gettext("Distribution fee"),
    holdbacks: gettext("Holdbacks"),
    days: gettext("Days"),
    release: gettext("Release commitments"),
    min_screens: gettext("Minimum screens"),
    window: gettext("Release window"),
    minimum_pa_spend: gettext("Minimum P&A spend"),
    commission_bp: gettext("Commission"),
    expenses_cap: gettext("Expenses cap"),
    term_years: gettext("Term (years)"),
    minimum_prices: gettext("Minimum prices"),
    price: gettext("Price"),
  };

  // The name of one row of a list, numbered: "Tranche 2".
  const ROW_LABELS = {
    service_lines: gettext("Service"),
    tranches: gettext("Tranche"),
    payment_schedule: gettext("Instalment"),
    holdbacks: gettext("Holdback"),
    minimum_prices: gettext("Minimum price"),
    deliverables: gettext("Deliverable"),
    conditions: gettext("Condition"),
    report_deadlines: gettext("Report deadline"),
  };

  // Enum values by the name of their $defs entry.
  const ENUM_LABELS = {
    ServiceCategory: {
      colour_grading: gettext("Colour grading"),
      sound_editing: gettext("Sound editing"),
      sound_mix_51: gettext("5.1 sound mix"),
      sound_mix_atmos: gettext("Dolby Atmos sound mix"),
      vfx: gettext("Visual effects"),
      music: gettext("Music"),
      subtitling: gettext("Subtitling"),
      dcp_deliverables: gettext("DCP and deliverables"),
      festival_copies: gettext("Festival copies"),
      editing: gettext("Editing"),
      other: gettext("Other service"),
    },
    ServiceUnit: {
      day: gettext("days"),
      week: gettext("weeks"),
      hour: gettext("hours"),
      lump_sum: gettext("lump sum"),
      copy: gettext("copies"),
      reel: gettext("reels"),
    },
    Trigger: {
      on_signature: gettext("on signature"),
      on_date: gettext("on a date"),
      on_delivery: gettext("on a delivery"),
    },
    RecoupmentPosition: {
      first: gettext("First position"),
      pari_passu: gettext("Pari passu"),
      after_equity: gettext("After equity"),
      none: gettext("No recoupment"),
    },
    Medium: {
      theatrical: gettext("Theatrical"),
      free_tv: gettext("Free TV"),
      pay_tv: gettext("Pay TV"),
      svod: gettext("SVOD"),
      tvod: gettext("TVOD"),
      avod: gettext("AVOD"),
      airline: gettext("Airline"),
      educational: gettext("Educational"),
      home_video: gettext("Home video"),
    },
  };

  const HELP = {
    include: gettext("Country codes (ISO 3166, such as ES, MX) or groups, separated by commas."),
    exclude: gettext("Countries or groups left out of those included, separated by commas."),
    languages: gettext("Language codes (ISO 639, such as es, fr, en), separated by commas."),
    value: gettext("The value of the whole line, not a unit price."),
    years: gettext("Give either a number of years or an end date."),
    share_bp: gettext("The shares of all the rows add up to 100 %."),
  };

  // Fields shown only while a sibling has one of some values (the schemas' cross-field rules).
  const SHOWN_WHEN = {
    date: ["trigger", ["on_date"]],
    description: ["trigger", ["on_delivery"]],
    languages: ["category", ["subtitling"]],
  };

  const COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CAD", "ARS", "BRL", "CLP", "COP", "MXN", "PEN", "UYU"];

  // --- Values: typed text <-> JSON --------------------------------------------------------------------

  // "4 300,50" / "4,300.50" / "4300.5" -> "4300.50" with "." as the decimal point, or null.
  function normaliseDecimal(text) {
    let value = String(text).replace(/[\s\u00a0\u202f']/g, "");
    if (value === "") return null;
    const comma = value.lastIndexOf(",");
    const dot = value.lastIndexOf(".");
    if (comma >= 0 && dot >= 0) {
      const decimal = comma > dot ? "," : ".";
      const grouping = decimal === "," ? "." : ",";
      value = value.split(grouping).join("").replace(decimal, ".");
    } else if (comma >= 0) {
      value = (value.match(/,/g) || []).length > 1 ? value.split(",").join("") : value.replace(",", ".");
    } else if ((value.match(/\./g) || []).length > 1) {
      value = value.split(".").join("");
    }
    return /^\d+(\.\d+)?$/.test(value) ? value : null;
  }

  // A decimal text -> an integer count of 10^-places units, or null if it is not one (too many decimals).
  function scaled(text, places) {
    const value = normaliseDecimal(text);
    if (value === null) return null;
    const [whole, fraction = ""] = value.split(".");
    const significant = fraction.replace(/0+$/, "");
    if (significant.length > places) return null;
    const number = Number(whole + significant.padEnd(places, "0"));
    return Number.isSafeInteger(number) ? number : null;
  }

  function unscaled(number, places) {
    if (typeof number !== "number" || !Number.isInteger(number)) return number == null ? "" : String(number);
    const sign = number < 0 ? "-" : "";
    const digits = String(Math.abs(number)).padStart(places + 1, "0");
    if (places === 0) return sign + digits;
    const fraction = digits.slice(-places).replace(/0+$/, "");
    return sign + digits.slice(0, -places) + (fraction ? "." + fraction : "");
  }

  function toMinorUnits(text, exponent) {
    return scaled(text, exponent);
  }

  function fromMinorUnits(amountMinor, exponent) {
    if (typeof amountMinor !== "number" || !Number.isInteger(amountMinor)) {
      return amountMinor == null ? "" : String(amountMinor);
    }
    const text = unscaled(amountMinor, exponent);
    if (exponent === 0) return text;
    const [whole, fraction = ""] = text.split(".");
    return whole + "." + fraction.padEnd(exponent, "0");
  }

  function toBasisPoints(text) {
    return scaled(text, 2);
  }

  function fromBasisPoints(basisPoints) {
    return unscaled(basisPoints, 2);
  }

  // --- DOM helpers --------------------------------------------------------------------------------------

  let counter = 0;
  function nextId() {
    counter += 1;
    return "terms-field-" + counter;
  }

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  function dropLegend(element) {
    const legend = element && element.tagName === "FIELDSET" ? element.querySelector(":scope > legend") : null;
    if (legend) legend.remove();
  }

  function humanise(name) {
    const text = String(name).replace(/_bp$/, "").replace(/_/g, " ").trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // An error box and the element that carries the has-error mark, shared by every kind of field.
  function slot(wrap) {
    const box = el("ul", { className: "errorlist terms-field-errors", "aria-live": "polite" });
    return {
      box,
      wrap,
      showError(message) {
        box.append(el("li", { text: message }));
        wrap.classList.add("has-error");
      },
    };
  }

  function leafShell(label, help, input, id) {
    const wrap = el("div", { className: "terms-field" });
    const errors = slot(wrap);
    wrap.append(el("label", { for: id, text: label }), input);
    if (help) wrap.append(el("small", { className: "helptext", text: help }));
    wrap.append(errors.box);
    return { wrap, errors };
  }

  function leaf(element, errors, get) {
    return { element, get, find: () => errors };
  }

  // --- Schema helpers -----------------------------------------------------------------------------------

  function refName(node) {
    return node && typeof node.$ref === "string" ? node.$ref.split("/").pop() : null;
  }

  // The node behind a $ref or an `X | None`, its $defs name, and whether null is allowed.
  function resolve(node, defs) {
    let optional = false;
    let current = node || {};
    if (Array.isArray(current.anyOf)) {
      const others = current.anyOf.filter((option) => option.type !== "null");
      optional = others.length !== current.anyOf.length;
      current = others[0] || {};
    }
    const name = refName(current);
    if (name) current = defs[name] || {};
    return { node: current, name, optional };
  }

  function isMoney(node, name) {
    const properties = node.properties || {};
    return name === "Money" || ("amount_minor" in properties && "currency" in properties);
  }

  // --- Field builders -------------------------------------------------------------------------------------

  function build(ctx, key, schemaNode, value, labelOverride) {
    const { node, name, optional } = resolve(schemaNode, ctx.defs);
    // The server titles every field with its label in the reader's language (offers/terms/labels.py),
    // the same words its errors name the field by; the table above is the fallback.
    const label = labelOverride || schemaNode.title || FIELD_LABELS[key] || humanise(node.title || key);
    if ("const" in node) return { element: null, get: () => node.const, find: () => null };
    if (optional && node.type === "object") {
      // The checkbox carries the field's name; what it includes is drawn without repeating it.
      const inner = () => build(ctx, key, node, value, isMoney(node, name) ? FIELD_LABELS.amount : label);
      return optionalObject(ctx, key, label, inner, value);
    }
    if (isMoney(node, name)) return moneyField(ctx, key, label, value);
    if (Array.isArray(node.enum)) {
      return enumField(key === "media" ? gettext("Medium") : label, node.enum, name, value, key);
    }
    if (node.type === "object") return objectField(ctx, key, label, node, value, false);
    if (node.type === "array") return arrayField(ctx, key, label, schemaNode, node, value);
    if (node.type === "boolean") return booleanField(label, value);
    if (node.type === "integer") {
      if (/_bp$/.test(key)) return percentField(label, value, HELP[key]);
      if (/_organisation_id$/.test(key) && ctx.organisations.length) {
        return organisationField(ctx, label, value);
      }
      return integerField(label, value, HELP[key]);
    }
    if (node.type === "string") {
      if (node.format === "date") return dateField(label, value);
      if (key === "country") return countryField(ctx, label, value);
      const fallback = "default" in schemaNode && schemaNode.default !== null ? schemaNode.default : undefined;
      return textField(label, node, value, fallback, HELP[key]);
    }
    return jsonField(label, value);
  }

  function objectField(ctx, key, label, node, value, isRoot) {
    const current = value && typeof value === "object" && !Array.isArray(value) ? value : {};
    const element = isRoot
      ? el("div", { className: "terms-object terms-root" })
      : el("fieldset", { className: "terms-object", "data-field": key }, [el("legend", { text: label })]);
    const errors = slot(element);
    element.append(errors.box);
    const children = {};
    for (const [name, child] of Object.entries(node.properties || {})) {
      children[name] = build(ctx, name, child, current[name]);
      if (children[name].element) {
        children[name].element.dataset.name = name;
        element.append(children[name].element);
      }
    }
    const hidden = new Set();
    for (const [name, [sibling, values]] of Object.entries(SHOWN_WHEN)) {
      const dependent = children[name];
      const controller = children[sibling];
      if (!dependent || !dependent.element || !controller || !controller.element) continue;
      const update = () => {
        const shown = values.includes(controller.get());
        dependent.element.hidden = !shown;
        if (shown) hidden.delete(name);
        else hidden.add(name);
      };
      controller.element.addEventListener("change", update);
      update();
    }
    return {
      element,
      get() {
        const result = {};
        for (const [name, child] of Object.entries(children)) {
          if (hidden.has(name)) continue;
          const childValue = child.get();
          if (childValue !== undefined) result[name] = childValue;
        }
        return result;
      },
      find(parts) {
        if (!parts.length) return errors;
        const child = children[parts[0]];
        return (child && child.find(parts.slice(1))) || errors;
      },
    };
  }

  function optionalObject(ctx, key, label, buildInner, value) {
    const id = nextId();
    const toggle = el("input", { type: "checkbox", id, checked: value !== null && value !== undefined });
    const element = el("div", { className: "terms-optional", "data-field": key }, [
      el("label", { className: "terms-toggle", for: id }, [toggle, document.createTextNode(" " + label)]),
    ]);
    const errors = slot(element);
    const inner = buildInner();
    dropLegend(inner.element);
    const body = el("div", { className: "terms-optional-body" }, [inner.element]);
    element.append(errors.box, body);
    const update = () => {
      body.hidden = !toggle.checked;
    };
    toggle.addEventListener("change", update);
    update();
    return {
      element,
      get: () => (toggle.checked ? inner.get() : undefined),
      find: (parts) => (toggle.checked ? inner.find(parts) : errors) || errors,
    };
  }

  function moneyField(ctx, key, label, value) {
    const current = value && typeof value === "object" ? value : {};
    const id = nextId();
    const currency = el("select", { className: "terms-currency", "aria-label": FIELD_LABELS.currency });
    const chosen = typeof current.currency === "string" && current.currency ? current.currency.toUpperCase() : ctx.defaultCurrency;
    const common = COMMON_CURRENCIES.filter((code) => ctx.currencies.includes(code));
    const groups = [
      [gettext("Frequent"), common],
      [gettext("All currencies"), ctx.currencies.filter((code) => !common.includes(code))],
    ];
    if (!ctx.currencies.includes(chosen)) groups.unshift(["", [chosen]]);
    for (const [groupLabel, codes] of groups) {
      const parent = groupLabel ? el("optgroup", { label: groupLabel }) : currency;
      for (const code of codes) parent.append(el("option", { value: code, text: code, selected: code === chosen }));
      if (parent !== currency) currency.append(parent);
    }
    const exponent = () => ctx.exponent(currency.value);
    const amount = el("input", {
      id,
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      className: "terms-amount",
      value: fromMinorUnits(current.amount_minor, ctx.exponent(chosen)),
    });
    const pair = el("span", { className: "terms-money" }, [amount, currency]);
    const { wrap, errors } = leafShell(label, HELP[key] || null, pair, id);
    const check = () => {
      errors.box.replaceChildren();
      wrap.classList.remove("has-error");
      if (amount.value.trim() !== "" && toMinorUnits(amount.value, exponent()) === null) {
        const message = exponent()
          ? gettext("Type an amount such as 4300.50, with at most %(places)s decimals.")
          : gettext("Type a whole amount, without decimals, for this currency.");
        errors.showError(interpolate(message, { places: exponent() }, true));
      }
    };
    amount.addEventListener("change", check);
    currency.addEventListener("change", check);
    return leaf(wrap, errors, () => {
      const result = { currency: currency.value };
      const text = amount.value.trim();
      if (text !== "") {
        const minor = toMinorUnits(text, exponent());
        result.amount_minor = minor === null ? text : minor; // the server names what is wrong with it
      }
      return result;
    });
  }

  function enumField(label, values, enumName, value, key) {
    const id = nextId();
    const labels = ENUM_LABELS[enumName] || {};
    const select = el("select", { id }, [el("option", { value: "", text: gettext("Choose…") })]);
    for (const option of values) {
      select.append(el("option", { value: option, text: labels[option] || humanise(option), selected: option === value }));
    }
    const { wrap, errors } = leafShell(label, HELP[key] || null, select, id);
    return leaf(wrap, errors, () => select.value || undefined);
  }

  function enumChecklist(label, values, enumName, value) {
    const labels = ENUM_LABELS[enumName] || {};
    const chosen = new Set(Array.isArray(value) ? value : []);
    const element = el("fieldset", { className: "terms-checklist" }, [el("legend", { text: label })]);
    const boxes = values.map((option) => {
      const id = nextId();
      const box = el("input", { type: "checkbox", id, value: option, checked: chosen.has(option) });
      element.append(el("label", { for: id }, [box, document.createTextNode(" " + (labels[option] || humanise(option)))]));
      return box;
    });
    const errors = slot(element);
    element.append(errors.box);
    return leaf(element, errors, () => boxes.filter((box) => box.checked).map((box) => box.value));
  }

  function booleanField(label, value) {
    const id = nextId();
    const box = el("input", { type: "checkbox", id, checked: value === true });
    const wrap = el("div", { className: "terms-field terms-boolean" });
    const errors = slot(wrap);
    wrap.append(el("label", { for: id }, [box, document.createTextNode(" " + label)]), errors.box);
    return leaf(wrap, errors, () => box.checked);
  }

  function textInput(id, value, attributes) {
    return el("input", { id, type: "text", value: value == null ? "" : String(value), ...attributes });
  }

  function percentField(label, value, help) {
    const id = nextId();
    const input = textInput(id, typeof value === "number" ? fromBasisPoints(value) : value, {
      inputmode: "decimal",
      autocomplete: "off",
      className: "terms-percent",
    });
    const { wrap, errors } = leafShell(label, help, el("span", { className: "terms-suffixed" }, [input, el("span", { text: "%" })]), id);
    return leaf(wrap, errors, () => {
      const text = input.value.trim();
      if (text === "") return undefined;
      const basisPoints = toBasisPoints(text);
      return basisPoints === null ? text : basisPoints;
    });
  }

  function integerField(label, value, help) {
    const id = nextId();
    const input = textInput(id, value, { inputmode: "numeric", autocomplete: "off", className: "terms-integer" });
    const { wrap, errors } = leafShell(label, help, input, id);
    return leaf(wrap, errors, () => {
      const text = input.value.trim();
      if (text === "") return undefined;
      return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
    });
  }

  function organisationField(ctx, label, value) {
    const id = nextId();
    const select = el("select", { id });
    const known = ctx.organisations.some((organisation) => organisation.id === value);
    if (value != null && !known) {
      const text = interpolate(gettext("Organisation #%(id)s"), { id: value }, true);
      select.append(el("option", { value: String(value), text, selected: true }));
    }
    for (const organisation of ctx.organisations) {
      select.append(el("option", { value: String(organisation.id), text: organisation.name, selected: organisation.id === value }));
    }
    const { wrap, errors } = leafShell(label, null, select, id);
    return leaf(wrap, errors, () => (select.value ? Number(select.value) : undefined));
  }

  function dateField(label, value) {
    const id = nextId();
    const input = el("input", { id, type: "date", value: typeof value === "string" ? value : "" });
    const { wrap, errors } = leafShell(label, null, input, id);
    return leaf(wrap, errors, () => input.value || undefined);
  }

  function countryField(ctx, label, value) {
    const id = nextId();
    const input = textInput(id, value, { list: ctx.countryList(), maxlength: "2", autocomplete: "off", className: "terms-code" });
    const { wrap, errors } = leafShell(label, gettext("ISO 3166 code, such as CO or FR."), input, id);
    return leaf(wrap, errors, () => input.value.trim().toUpperCase() || undefined);
  }

  function textField(label, node, value, fallback, help) {
    const id = nextId();
    const long = (node.maxLength || 0) > 200;
    const input = long
      ? el("textarea", { id, rows: "3", text: value == null ? "" : String(value) })
      : textInput(id, value, node.maxLength ? { maxlength: String(node.maxLength) } : {});
    const { wrap, errors } = leafShell(label, help, input, id);
    return leaf(wrap, errors, () => {
      const text = input.value.trim();
      return text === "" ? fallback : text;
    });
  }

  function codesField(ctx, key, label, value) {
    const id = nextId();
    const input = textInput(id, Array.isArray(value) ? value.join(", ") : value, { autocomplete: "off", className: "terms-codes" });
    let help = HELP[key] || null;
    if (key === "include" && ctx.groups.length) {
      const groups = ctx.groups.map(([code, name]) => code + " (" + name + ")").join(", ");
      help = (help ? help + " " : "") + interpolate(gettext("Groups: %(groups)s."), { groups }, true);
    }
    const { wrap, errors } = leafShell(label, help, input, id);
    return leaf(wrap, errors, () => input.value.split(/[\s,;]+/).filter(Boolean));
  }

  function jsonField(label, value) {
    const id = nextId();
    const input = el("textarea", { id, rows: "3", text: value === undefined ? "" : JSON.stringify(value) });
    const { wrap, errors } = leafShell(label, null, input, id);
    return leaf(wrap, errors, () => {
      if (input.value.trim() === "") return undefined;
      try {
        return JSON.parse(input.value);
      } catch (error) {
        return input.value;
      }
    });
  }

  function arrayField(ctx, key, label, schemaNode, node, value) {
    const items = resolve(node.items || {}, ctx.defs);
    if (Array.isArray(items.node.enum)) return enumChecklist(label, items.node.enum, items.name, value);
    const plain = items.node.type === "string" && !items.node.format && !items.node.minLength && !items.node.maxLength;
    if (plain) return codesField(ctx, key, label, value);
    return rowsField(ctx, key, label, schemaNode, node, value);
  }

  function rowsField(ctx, key, label, schemaNode, node, value) {
    const objects = resolve(node.items || {}, ctx.defs).node.type === "object";
    const rowName = schemaNode["x-row-title"] || ROW_LABELS[key] || label;
    const element = el("fieldset", { className: "terms-rows", "data-field": key }, [el("legend", { text: label })]);
    const errors = slot(element);
    const list = el("ol", { className: "terms-row-list" });
    const add = el("button", { type: "button", className: "link terms-add", text: interpolate(gettext("Add: %(row)s"), { row: rowName.toLowerCase() }, true) });
    element.append(errors.box, list, add);
    const rows = [];

    function renumber() {
      rows.forEach((row, index) => {
        row.title.textContent = rowName + " " + (index + 1);
      });
    }

    function addRow(rowValue) {
      const item = build(ctx, key, node.items || {}, rowValue);
      const title = el("span", { className: "terms-row-title" });
      const remove = el("button", { type: "button", className: "link danger terms-remove", text: gettext("Remove") });
      const entry = el("li", { className: "terms-row" + (objects ? " terms-row-object" : "") }, [
        el("div", { className: "terms-row-head" }, [title, remove]),
        item.element,
      ]);
      // The row's own numbered title replaces the object's legend or the input's label.
      dropLegend(item.element);
      if (!objects && item.element) {
        const inputLabel = item.element.querySelector(":scope > label");
        if (inputLabel) inputLabel.classList.add("visually-hidden");
      }
      const row = { item, title, entry };
      remove.addEventListener("click", () => {
        rows.splice(rows.indexOf(row), 1);
        entry.remove();
        renumber();
      });
      rows.push(row);
      list.append(entry);
      renumber();
      return row;
    }

    add.addEventListener("click", () => {
      const row = addRow(undefined);
      const first = row.entry.querySelector("input, select, textarea");
      if (first) first.focus();
    });
    if (Array.isArray(value)) value.forEach((rowValue) => addRow(rowValue));
    else if (!("default" in schemaNode)) addRow(undefined); // a list the terms require starts with one row

    return {
      element,
      get() {
        const values = rows.map((row) => row.item.get());
        // An empty text or date row means nothing: left out rather than sent as null.
        return objects ? values : values.filter((rowValue) => rowValue !== undefined);
      },
      find(parts) {
        if (!parts.length) return errors;
        const row = rows[Number(parts[0])];
        return (row && /^\d+$/.test(parts[0]) && row.item.find(parts.slice(1))) || errors;
      },
    };
  }

  // --- The editor -------------------------------------------------------------------------------------

  const schemas = new Map();

  function loadSchema(url) {
    if (!schemas.has(url)) {
      const request = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
        (response) => {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        },
      );
      request.catch(() => schemas.delete(url));
      schemas.set(url, request);
    }
    return schemas.get(url);
  }

  function context(schema, options) {
    const exponents = schema["x-currency-exponents"] || {};
    let countryListId = null;
    // Datalists live in a holder drawn with the form.
    return {
      defs: schema.$defs || {},
      currencies: schema["x-currencies"] || COMMON_CURRENCIES,
      groups: schema["x-territory-groups"] || [],
      organisations: Array.isArray(options.organisations) ? options.organisations : [],
      defaultCurrency: "EUR",
      exponent: (code) => (code in exponents ? exponents[code] : 2),
      countryList() {
        if (!countryListId) {
          countryListId = nextId();
          const list = el("datalist", { id: countryListId });
          for (const [code, name] of schema["x-countries"] || []) list.append(el("option", { value: code, label: name }));
          options.lists.append(list);
        }
        return countryListId;
      },
    };
  }

  function mount(container, options) {
    const settings = options || {};
    const kind = settings.kind;
    const url = settings.schemaUrl || "/offers/schema/" + encodeURIComponent(kind) + ".json";
    const initial = settings.initial && typeof settings.initial === "object" ? settings.initial : null;
    let root = null;
    let pending = null;
    let destroyed = false;
    const general = el("ul", { className: "errorlist terms-general-errors", "aria-live": "polite" });

    container.replaceChildren(el("p", { className: "muted terms-loading", text: gettext("Loading the terms form…") }));
    container.classList.add("terms-editor");

    function showErrors(errors) {
      if (!root) {
        pending = errors;
        return;
      }
      container.querySelectorAll(".terms-field-errors, .terms-general-errors").forEach((box) => box.replaceChildren());
      container.querySelectorAll(".has-error").forEach((node) => node.classList.remove("has-error"));
      let first = null;
      for (const error of errors || []) {
        const parts = String(error.field || "").split(".").filter((part) => part !== "");
        const target = root.find(parts) || { box: general, wrap: container, showError: (message) => general.append(el("li", { text: message })) };
        target.showError(String(error.message || ""));
        first = first || target.wrap;
      }
      if (first && typeof first.scrollIntoView === "function") first.scrollIntoView({ block: "center" });
    }

    const ready = loadSchema(url).then(
      (schema) => {
        if (destroyed) return;
        const lists = el("div", { className: "terms-lists", hidden: true });
        const ctx = context(schema, { ...settings, lists });
        root = objectField(ctx, "", "", schema, initial || {}, true);
        container.replaceChildren(general, root.element, lists);
        if (pending) showErrors(pending);
        pending = null;
      },
      (error) => {
        if (destroyed) return;
        container.replaceChildren(
          el("p", { className: "form-errors", role: "alert", text: gettext("The terms form could not be loaded. Reload the page to try again.") }),
        );
        throw error;
      },
    );

    return {
      ready,
      getTerms() {
        if (!root) return initial ? JSON.parse(JSON.stringify(initial)) : { kind };
        return root.get();
      },
      showErrors,
      destroy() {
        destroyed = true;
        container.replaceChildren();
      },
    };
  }

  // --- Editors declared by pages ------------------------------------------------------------------------

  function readJson(id) {
    const node = id ? document.getElementById(id) : null;
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return null;
    }
  }

  function autoMount(container) {
    const data = container.dataset;
    const urlFor = (kind) => (data.schemaUrl ? data.schemaUrl.replace("__kind__", encodeURIComponent(kind)) : undefined);
    const organisations = readJson(data.organisations) || [];
    const typed = {}; // what was typed for each kind, kept while the person switches between kinds
    let kind = data.kind;
    let editor = mount(container, { kind, initial: readJson(data.initial), schemaUrl: urlFor(kind), organisations });
    const errors = readJson(data.errors);
    if (Array.isArray(errors) && errors.length) editor.showErrors(errors);
    container.termsEditor = editor;

    const source = data.kindSource ? document.getElementById(data.kindSource) : null;
    if (source && !source.disabled) {
      source.addEventListener("change", () => {
        if (!source.value || source.value === kind) return;
        typed[kind] = editor.getTerms();
        editor.destroy();
        kind = source.value;
        editor = mount(container, { kind, initial: typed[kind] || null, schemaUrl: urlFor(kind), organisations });
        container.termsEditor = editor;
      });
    }
    const input = data.input ? document.getElementById(data.input) : null;
    if (input && input.form) {
      input.form.addEventListener("submit", () => {
        input.value = JSON.stringify(editor.getTerms());
      });
    }
  }

  function autoMountAll() {
    document.querySelectorAll("[data-terms-editor]").forEach((container) => {
      if (!container.termsEditor) autoMount(container);
    });
  }

  window.TermsEditor = { mount, toMinorUnits, fromMinorUnits, toBasisPoints, fromBasisPoints };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoMountAll);
  else autoMountAll();
})();

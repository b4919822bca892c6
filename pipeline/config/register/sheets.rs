//! The register's sheets and their columns: one table, read by the loader
//! and written by `register init`.

use super::sheet::{Column, Holds, SheetSpec};

/// Action statuses.
pub const ACTION_STATUSES: &[&str] = &["gepland", "lopend", "afgerond", "vervallen"];
/// Decisions on a finding.
pub const DECISIONS_WORDS: &[&str] = &["erkend", "niet herkend", "in behandeling"];
/// Kinds of visitation and audit.
pub const VISITATION_KINDS: &[&str] = &[
    "RGS-visitatie",
    "proefvisitatie",
    "interne audit",
    "collegiale visitatie",
    "minivisitatie",
];
/// What a visitation row records.
pub const ITEM_KINDS: &[&str] = &["voorwaarde", "advies"];
/// Status of a condition or advice.
pub const ITEM_STATUSES: &[&str] = &["open", "in behandeling", "afgerond"];
/// Where a signal comes from.
pub const SOURCES: &[&str] = &[
    "kwaliteitsinstrument",
    "visitatie",
    "werkvloer",
    "vertrouwenspersoon",
    "aios",
    "opleider",
    "anders",
];
/// The steps of the escalation procedure (convenant, article 4), in order.
pub const STEPS: &[&str] = &[
    "signalering",
    "bespreking",
    "actie met tijdlijn",
    "monitoring",
    "escalatie naar COC",
    "escalatie naar RvB",
    "escalatie naar R-COC",
    "escalatie naar regiobestuur",
    "escalatie naar RGS",
];
/// Status of a signal.
pub const SIGNAL_STATUSES: &[&str] = &["open", "gesloten"];
/// Calendar events that are not an instrument.
pub const EVENTS: &[&str] = &["kwaliteitssessie", "visitatie", "regioplan"];

const fn col(
    key: &'static str,
    heading: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    holds: Holds,
    help: &'static str,
) -> Column {
    Column {
        key,
        heading,
        aliases,
        required,
        holds,
        help,
    }
}

/// acties: the development plan.
pub const ACTIONS: SheetSpec = SheetSpec {
    name: "acties",
    about: "Het ontwikkelplan: wie wanneer welke actie onderneemt, op welke bevinding, met welk doel.",
    columns: &[
        col("action_id", "actie", &["action_id", "actie_id"], true, Holds::Text, "een eigen id per actie, zoals A1"),
        col("rso_id", "rso", &["rso_id"], true, Holds::Rso, "het RSO uit het register"),
        col("institution_id", "instelling", &["institution_id"], false, Holds::Institution, "leeg voor het hele RSO"),
        col("finding_ids", "bevindingen", &["finding_ids", "bevinding"], false, Holds::Text, "de id's van de bevindingen die de actie beantwoordt, gescheiden door komma's"),
        col("instrument", "instrument", &[], false, Holds::Instrument, "het instrument van de indicator"),
        col("scale_id", "subschaal", &["scale_id"], false, Holds::Scale, "de subschaal van de indicator, of total"),
        col("description", "omschrijving", &["description"], true, Holds::Text, "wat er gebeurt"),
        col("owner_role", "eigenaar", &["owner_role", "eigenaar_rol"], false, Holds::Text, "wie het doet"),
        col("start", "start", &[], false, Holds::Date, "startdatum"),
        col("due", "deadline", &["due"], false, Holds::Date, "uiterste datum"),
        col("status", "status", &[], true, Holds::OneOf(ACTION_STATUSES), "gepland, lopend, afgerond of vervallen"),
        col("target", "doel", &["target"], false, Holds::Text, ">= 70 (0-100) of +5 (punten sinds de start) wordt gemeten; een doel in woorden beoordeelt de groep"),
    ],
};

/// besluiten: the group's decisions on findings.
pub const DECISIONS: SheetSpec = SheetSpec {
    name: "besluiten",
    about: "Per bevinding het besluit van de groep; de laatste datum telt.",
    columns: &[
        col(
            "finding_id",
            "bevinding",
            &["finding_id"],
            true,
            Holds::Text,
            "de id van de bevinding, uit het rapport",
        ),
        col(
            "decision",
            "besluit",
            &["decision"],
            true,
            Holds::OneOf(DECISIONS_WORDS),
            "erkend, niet herkend of in behandeling",
        ),
        col(
            "date",
            "datum",
            &["date"],
            false,
            Holds::Date,
            "datum van het besluit",
        ),
        col(
            "explanation",
            "toelichting",
            &["explanation"],
            false,
            Holds::Text,
            "waarom",
        ),
    ],
};

/// evaluaties: the written evaluation per RSO and cycle.
pub const EVALUATIONS: SheetSpec = SheetSpec {
    name: "evaluaties",
    about: "Per RSO en cyclus de schriftelijke evaluatie door de R-COC.",
    columns: &[
        col("rso_id", "rso", &["rso_id"], true, Holds::Rso, "het RSO"),
        col(
            "cycle",
            "cyclus",
            &["cycle"],
            true,
            Holds::Text,
            "zoals 2023-2024",
        ),
        col(
            "self_evaluation",
            "zelfevaluatie",
            &["self_evaluation"],
            false,
            Holds::Text,
            "de zelfevaluatie van het RSO",
        ),
        col(
            "context",
            "context",
            &[],
            false,
            Holds::Text,
            "omstandigheden",
        ),
        col(
            "meeting_date",
            "vergaderdatum",
            &["meeting_date"],
            false,
            Holds::Date,
            "datum van de R-COC-vergadering",
        ),
        col(
            "conclusions",
            "conclusies",
            &["conclusions"],
            false,
            Holds::Text,
            "conclusies van de R-COC",
        ),
        col(
            "advice",
            "advies",
            &["advice"],
            false,
            Holds::Text,
            "advies van de R-COC",
        ),
        col(
            "conversations",
            "gesprekken",
            &["conversations"],
            false,
            Holds::Text,
            "notities van aanvullende gesprekken",
        ),
    ],
};

/// visitaties: visitations and audits, one row per condition or advice.
pub const VISITATIONS: SheetSpec = SheetSpec {
    name: "visitaties",
    about: "Visitaties en audits; per voorwaarde of advies een rij met dezelfde visitatie-id.",
    columns: &[
        col(
            "visitation_id",
            "visitatie",
            &["visitation_id"],
            true,
            Holds::Text,
            "een id per visitatie, zoals V2024-1",
        ),
        col(
            "kind",
            "soort",
            &["kind"],
            true,
            Holds::OneOf(VISITATION_KINDS),
            "soort visitatie of audit",
        ),
        col("rso_id", "rso", &["rso_id"], true, Holds::Rso, "het RSO"),
        col(
            "institution_id",
            "instelling",
            &["institution_id"],
            false,
            Holds::Institution,
            "de instelling, bij een visitatie van een afdeling",
        ),
        col(
            "date",
            "datum",
            &["date"],
            false,
            Holds::Date,
            "datum van de visitatie",
        ),
        col(
            "outcome",
            "uitkomst",
            &["outcome"],
            false,
            Holds::Text,
            "de uitkomst",
        ),
        col(
            "item_kind",
            "punt",
            &["item_kind"],
            false,
            Holds::OneOf(ITEM_KINDS),
            "voorwaarde of advies",
        ),
        col(
            "item",
            "omschrijving",
            &["item"],
            false,
            Holds::Text,
            "de voorwaarde of het advies",
        ),
        col(
            "due",
            "deadline",
            &["due"],
            false,
            Holds::Date,
            "uiterste datum",
        ),
        col(
            "status",
            "status",
            &[],
            false,
            Holds::OneOf(ITEM_STATUSES),
            "open, in behandeling of afgerond",
        ),
    ],
};

/// signalen: escalations (convenant, article 4).
pub const ESCALATIONS: SheetSpec = SheetSpec {
    name: "signalen",
    about: "Signalen en escalaties volgens de escalatieprocedure: bron, stap, eigenaar en volgende datum.",
    columns: &[
        col("signal_id", "signaal", &["signal_id"], true, Holds::Text, "een id per signaal, zoals S1"),
        col("source", "bron", &["source"], true, Holds::OneOf(SOURCES), "waar het signaal vandaan komt"),
        col("rso_id", "rso", &["rso_id"], true, Holds::Rso, "het RSO"),
        col("institution_id", "instelling", &["institution_id"], false, Holds::Institution, "de instelling, als het een afdeling betreft"),
        col("received", "ontvangen", &["received"], false, Holds::Date, "datum van ontvangst"),
        col("description", "omschrijving", &["description"], false, Holds::Text, "waar het over gaat (zonder namen)"),
        col("step", "stap", &["step"], true, Holds::OneOf(STEPS), "de bereikte stap"),
        col("owner", "eigenaar", &["owner"], false, Holds::Text, "wie het signaal volgt"),
        col("next_date", "volgende_datum", &["next_date", "volgende datum"], false, Holds::Date, "wanneer het weer besproken wordt"),
        col("status", "status", &[], true, Holds::OneOf(SIGNAL_STATUSES), "open of gesloten"),
    ],
};

/// jaarkalender: every planned quality event per RSO.
pub const CALENDAR: SheetSpec = SheetSpec {
    name: "jaarkalender",
    about: "Per RSO de geplande kwaliteitsactiviteiten per jaar; een vrijstelling met reden voorkomt een signaal 'ontbreekt'.",
    columns: &[
        col("rso_id", "rso", &["rso_id"], true, Holds::Rso, "het RSO"),
        col("institution_id", "instelling", &["institution_id"], false, Holds::Institution, "leeg voor het hele RSO; een instelling voor één afdeling"),
        col("year", "jaar", &["year"], true, Holds::Number, "het jaar"),
        col("month", "maand", &["month"], false, Holds::Number, "de maand, 1 tot 12"),
        col("event", "activiteit", &["event"], true, Holds::Text, "een instrument (d-rect, setq, ...) of kwaliteitssessie, visitatie, regioplan"),
        col("owner", "eigenaar", &["owner"], false, Holds::Text, "wie het organiseert"),
        col("done_on", "uitgevoerd", &["done_on"], false, Holds::Date, "datum waarop het gebeurde (voor activiteiten die niet in de data staan)"),
        col("exempt", "vrijstelling", &["exempt"], false, Holds::Text, "reden van vrijstelling; leeg als de activiteit gewoon gepland is"),
    ],
};

/// Every sheet, in the workbook's order.
pub const SHEETS: [SheetSpec; 6] = [
    ACTIONS,
    DECISIONS,
    EVALUATIONS,
    VISITATIONS,
    ESCALATIONS,
    CALENDAR,
];

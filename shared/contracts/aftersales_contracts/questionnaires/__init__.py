"""Questionnaires as configuration (D16, D17), and the coded lists a result draws from (D11, D15).

One catalogue, read by contact (to show an agent the questions and check an answer), reporting
and the console (to name the items): the same definitions everywhere. A questionnaire has scored
items (0-10) and yes/no items, each worded neutrally in Chinese for the agent to read, and in
English; it serves one or more contact purposes, for every dealer (the default), an OEM's dealers
or listed dealers. The most specific one wins: a dealer's own, else its OEM's, else the default.

The catalogue is validated when it is loaded (``QuestionnaireCatalogue.load``): a file that would
let one purpose of one dealer have two questionnaires, or an item twice, is refused whole.

``model``: a questionnaire and a code list; ``defaults``: the shipped ones (data);
``catalogue``: all of them together. Import them from here.
"""

from .catalogue import QuestionnaireCatalogue, default_catalogue
from .defaults import (
    CSI_ID,
    CSI_ITEMS,
    DEFAULT_CATALOGUE,
    DELIVERY_SURVEY_ID,
    DELIVERY_SURVEY_ITEMS,
    ISSUE_CATEGORIES,
    LABELS,
    LAPSE_REASONS,
    SMS_SURVEY_ID,
    SMS_SURVEY_ITEMS,
    SSI_ID,
    SSI_ITEMS,
)
from .model import OTHER, CodeList, ItemKind, Questionnaire, QuestionnaireItem, Wording

__all__ = [
    "CSI_ID",
    "CSI_ITEMS",
    "DEFAULT_CATALOGUE",
    "DELIVERY_SURVEY_ID",
    "DELIVERY_SURVEY_ITEMS",
    "ISSUE_CATEGORIES",
    "LABELS",
    "LAPSE_REASONS",
    "OTHER",
    "SMS_SURVEY_ID",
    "SMS_SURVEY_ITEMS",
    "SSI_ID",
    "SSI_ITEMS",
    "CodeList",
    "ItemKind",
    "Questionnaire",
    "QuestionnaireCatalogue",
    "QuestionnaireItem",
    "Wording",
    "default_catalogue",
]

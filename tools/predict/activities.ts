import type { Label } from '../../src/predict/labels.js';
import { pick } from './rng.js';

/**
 * The rule that labels every activity of the dataset. An activity is a kind of thing done
 * (driving, eating beef, running a heater, buying a phone) times a quantity in a unit; the unit
 * converts to the kind's base unit (km, kg, kWh, item) and a per-base-unit emission factor gives
 * kgCO2e. The label is a threshold on that number:
 *
 *   low     kgCO2e <  1
 *   middle  1 <= kgCO2e < 10
 *   high    kgCO2e >= 10
 *
 * The factors are illustrative orders of magnitude taken from public tables (UK DESNZ 2023
 * conversion factors per passenger-km, Poore & Nemecek 2018 via Our World in Data per kg of
 * food, typical appliance power at 0.4 kgCO2e/kWh of grid electricity, and published product
 * footprints). They make a plausible, self-consistent teaching dataset, not a carbon account.
 */
export const THRESHOLDS_KG = { middle: 1, high: 10 } as const;

/** Grid intensity assumed for household electricity, kgCO2e per kWh. */
export const GRID_KG_PER_KWH = 0.4;

export function labelFor(kgCO2e: number): Label {
  if (kgCO2e >= THRESHOLDS_KG.high) return 'high';
  if (kgCO2e >= THRESHOLDS_KG.middle) return 'middle';
  return 'low';
}

/** One generated activity: its text, what the rule computed and which kind it was. */
export interface ActivitySample {
  text: string;
  kind: string;
  kgCO2e: number;
}

interface UnitChoice {
  /** Spellings of the unit; the first is the plural used in most templates. */
  words: readonly string[];
  /** How many base units one of this unit is (for durations: hours). */
  factor: number;
  quantities: readonly number[];
}

const KM: UnitChoice = {
  words: ['km', 'kilometers', 'kilometres'],
  factor: 1,
  quantities: [1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500, 800],
};
const MILES: UnitChoice = {
  words: ['miles'],
  factor: 1.609,
  quantities: [1, 2, 3, 5, 10, 15, 20, 30, 50, 100, 200, 300, 500],
};
const HOURS: UnitChoice = {
  words: ['hours', 'hrs', 'h'],
  factor: 1,
  quantities: [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 24],
};
const MINUTES: UnitChoice = {
  words: ['minutes', 'mins', 'min'],
  factor: 1 / 60,
  quantities: [5, 10, 15, 20, 30, 45, 60, 90],
};

/** Mode of transport: kgCO2e per passenger-km and a typical speed to turn hours into km. */
interface TravelMode {
  kind: string;
  gerunds: readonly string[];
  nouns: readonly string[];
  kgPerKm: number;
  speedKmh: number;
}

const TRAVEL: readonly TravelMode[] = [
  {
    kind: 'car',
    gerunds: ['driving', 'driving a car', 'driving my car', 'taking the car'],
    nouns: ['car'],
    kgPerKm: 0.17,
    speedKmh: 60,
  },
  {
    kind: 'electric car',
    gerunds: ['driving an electric car', 'driving an ev'],
    nouns: ['electric car'],
    kgPerKm: 0.05,
    speedKmh: 60,
  },
  {
    kind: 'motorbike',
    gerunds: ['riding a motorbike', 'riding a motorcycle'],
    nouns: ['motorbike'],
    kgPerKm: 0.11,
    speedKmh: 60,
  },
  {
    kind: 'taxi',
    gerunds: ['taking a taxi', 'riding in a taxi'],
    nouns: ['taxi'],
    kgPerKm: 0.15,
    speedKmh: 40,
  },
  {
    kind: 'bus',
    gerunds: ['taking the bus', 'riding the bus'],
    nouns: ['bus'],
    kgPerKm: 0.1,
    speedKmh: 25,
  },
  {
    kind: 'coach',
    gerunds: ['taking a coach'],
    nouns: ['coach'],
    kgPerKm: 0.027,
    speedKmh: 70,
  },
  {
    kind: 'train',
    gerunds: ['taking the train', 'riding the train', 'travelling by train'],
    nouns: ['train'],
    kgPerKm: 0.035,
    speedKmh: 100,
  },
  {
    kind: 'metro',
    gerunds: ['taking the subway', 'riding the metro'],
    nouns: ['metro', 'subway'],
    kgPerKm: 0.028,
    speedKmh: 30,
  },
  {
    kind: 'plane',
    gerunds: ['flying', 'taking a plane', 'taking a flight'],
    nouns: ['plane'],
    kgPerKm: 0.25,
    speedKmh: 750,
  },
  {
    kind: 'ferry',
    gerunds: ['taking the ferry'],
    nouns: ['ferry', 'boat'],
    kgPerKm: 0.019,
    speedKmh: 30,
  },
  {
    kind: 'bicycle',
    gerunds: ['cycling', 'biking', 'riding a bike', 'riding my bicycle'],
    nouns: ['bike', 'bicycle'],
    kgPerKm: 0.021,
    speedKmh: 15,
  },
  {
    kind: 'e-bike',
    gerunds: ['riding an e-bike', 'riding an electric bike'],
    nouns: ['e-bike'],
    kgPerKm: 0.022,
    speedKmh: 20,
  },
  {
    kind: 'walking',
    gerunds: ['walking', 'going on foot', 'hiking'],
    nouns: ['foot'],
    kgPerKm: 0,
    speedKmh: 5,
  },
];

/** Trips with an implied one-way distance in km, for texts without a number. */
const TRIPS: readonly (readonly [string, number])[] = [
  ['to work', 10],
  ['to school', 5],
  ['to the shops', 3],
  ['to the supermarket', 4],
  ['to the airport', 30],
  ['to the next town', 25],
  ['to the beach', 40],
  ['around the block', 1],
  ['to visit family', 150],
  ['to another city', 300],
  ['across the country', 1000],
];

/** Foods: kgCO2e per kg of product. */
const FOODS: readonly (readonly [string, number])[] = [
  ['beef', 99.5],
  ['lamb', 39.7],
  ['cheese', 23.9],
  ['dark chocolate', 46.7],
  ['coffee', 28.5],
  ['prawns', 26.9],
  ['pork', 12.3],
  ['chicken', 9.9],
  ['farmed fish', 13.6],
  ['eggs', 4.7],
  ['rice', 4.5],
  ['tofu', 3.2],
  ['milk', 3.2],
  ['bread', 1.6],
  ['tomatoes', 2.1],
  ['potatoes', 0.46],
  ['apples', 0.43],
  ['bananas', 0.86],
  ['peas', 0.98],
  ['nuts', 0.43],
  ['oranges', 0.39],
  ['carrots', 0.43],
];

const FOOD_UNITS: readonly UnitChoice[] = [
  { words: ['kg', 'kilos', 'kilograms'], factor: 1, quantities: [0.5, 1, 2, 3, 5, 10] },
  { words: ['grams', 'g'], factor: 0.001, quantities: [50, 100, 150, 200, 250, 300, 500, 750] },
  { words: ['servings', 'portions'], factor: 0.15, quantities: [1, 2, 3, 4, 6, 8, 10] },
];

/** Household appliances: electric power in kW (energy = power x time, at GRID_KG_PER_KWH). */
const APPLIANCES: readonly { kind: string; gerunds: readonly string[]; kw: number }[] = [
  { kind: 'heater', gerunds: ['running the heater', 'using an electric heater'], kw: 2 },
  { kind: 'air conditioning', gerunds: ['running the air conditioning'], kw: 1.5 },
  { kind: 'oven', gerunds: ['using the oven', 'baking in the oven'], kw: 2 },
  { kind: 'dryer', gerunds: ['tumble drying clothes', 'using the dryer'], kw: 2.5 },
  { kind: 'dishwasher', gerunds: ['running the dishwasher'], kw: 1.2 },
  { kind: 'washing machine', gerunds: ['doing laundry', 'running the washing machine'], kw: 0.8 },
  { kind: 'electric shower', gerunds: ['taking an electric shower'], kw: 9 },
  { kind: 'tv', gerunds: ['watching tv', 'watching television'], kw: 0.1 },
  { kind: 'laptop', gerunds: ['using a laptop', 'working on a laptop'], kw: 0.05 },
  { kind: 'gaming pc', gerunds: ['gaming on a pc', 'playing video games'], kw: 0.4 },
  { kind: 'ev charging', gerunds: ['charging an electric car'], kw: 7 },
  { kind: 'hair dryer', gerunds: ['using a hair dryer'], kw: 1.8 },
  { kind: 'vacuum', gerunds: ['vacuuming', 'using the vacuum cleaner'], kw: 1 },
  { kind: 'gpu rig', gerunds: ['mining crypto on a gpu rig', 'training a model on a gpu'], kw: 1 },
];

const APPLIANCE_UNITS: readonly UnitChoice[] = [
  { ...HOURS, quantities: [1, 2, 3, 4, 5, 6, 8, 10, 12, 24] },
  MINUTES,
];

/** Products: kgCO2e embodied per item; singular and plural spellings. */
const PRODUCTS: readonly (readonly [string, string, number])[] = [
  ['smartphone', 'smartphones', 70],
  ['laptop', 'laptops', 250],
  ['television', 'televisions', 350],
  ['t-shirt', 't-shirts', 7],
  ['pair of jeans', 'pairs of jeans', 33],
  ['pair of shoes', 'pairs of shoes', 14],
  ['book', 'books', 2.7],
  ['newspaper', 'newspapers', 0.3],
  ['sofa', 'sofas', 90],
  ['fridge', 'fridges', 350],
  ['plastic bottle of water', 'plastic bottles of water', 0.16],
  ['cotton tote bag', 'cotton tote bags', 2.1],
];

/** Digital habits: kgCO2e per base unit (hour or item). */
const DIGITAL = {
  streamingKgPerHour: 0.036,
  emailKg: 0.004,
  emailWithAttachmentKg: 0.05,
};

type Random = () => number;

/** kgCO2e of travelling by `kind` over a distance, for a duration, or on a named trip. */
export function travelKg(
  kind: string,
  how: { km: number } | { hours: number } | { trip: string },
): number {
  const mode = TRAVEL.find((m) => m.kind === kind);
  if (!mode) throw new Error(`unknown mode of travel: ${kind}`);
  if ('km' in how) return how.km * mode.kgPerKm;
  if ('hours' in how) return how.hours * mode.speedKmh * mode.kgPerKm;
  const trip = TRIPS.find(([name]) => name === how.trip);
  if (!trip) throw new Error(`unknown trip: ${how.trip}`);
  return trip[1] * mode.kgPerKm;
}

function travel(random: Random): ActivitySample {
  const mode = pick(TRAVEL, random);
  const gerund = pick(mode.gerunds, random);
  const template = Math.floor(random() * 5);
  if (template === 4) {
    const [trip] = pick(TRIPS, random);
    return { text: `${gerund} ${trip}`, kind: mode.kind, kgCO2e: travelKg(mode.kind, { trip }) };
  }
  const unit = pick([KM, MILES, HOURS, MINUTES], random);
  const q = pick(unit.quantities, random);
  const word = pick(unit.words, random);
  const isTime = unit === HOURS || unit === MINUTES;
  const texts = [
    `${gerund} ${q} ${word}`,
    isTime ? `${gerund} for ${q} ${word}` : `${gerund} ${q} ${word} each way`,
    `${q} ${word} of ${gerund}`,
    `${q} ${word} by ${pick(mode.nouns, random)}`,
  ];
  const oneWay = travelKg(mode.kind, isTime ? { hours: q * unit.factor } : { km: q * unit.factor });
  const kg = oneWay * (template === 1 && !isTime ? 2 : 1);
  return { text: texts[template], kind: mode.kind, kgCO2e: kg };
}

function food(random: Random): ActivitySample {
  const [name, kgPerKg] = pick(FOODS, random);
  const unit = pick(FOOD_UNITS, random);
  const q = pick(unit.quantities, random);
  const word = pick(unit.words, random);
  const verb = pick(['eating ', 'cooking ', 'buying ', ''], random);
  return { text: `${verb}${q} ${word} of ${name}`, kind: name, kgCO2e: q * unit.factor * kgPerKg };
}

function appliance(random: Random): ActivitySample {
  const device = pick(APPLIANCES, random);
  const gerund = pick(device.gerunds, random);
  const unit = pick(APPLIANCE_UNITS, random);
  const q = pick(unit.quantities, random);
  const word = pick(unit.words, random);
  const text = pick(
    [`${gerund} ${q} ${word}`, `${gerund} for ${q} ${word}`, `${q} ${word} of ${gerund}`],
    random,
  );
  const kwh = device.kw * q * unit.factor;
  return { text, kind: device.kind, kgCO2e: kwh * GRID_KG_PER_KWH };
}

function electricity(random: Random): ActivitySample {
  const kwh = pick([1, 2, 3, 5, 10, 15, 20, 25, 30, 50, 100, 200], random);
  const text = pick(
    [
      `using ${kwh} kwh of electricity`,
      `consuming ${kwh} kwh`,
      `${kwh} kwh of power from the grid`,
    ],
    random,
  );
  return { text, kind: 'electricity', kgCO2e: kwh * GRID_KG_PER_KWH };
}

function purchase(random: Random): ActivitySample {
  const [one, many, kgEach] = pick(PRODUCTS, random);
  const q = pick([1, 1, 2, 3, 4, 5, 10, 20], random);
  const article = /^[aeiou]/.test(one) ? 'an' : 'a';
  const text =
    q === 1
      ? pick([`buying ${article} ${one}`, `buying ${article} new ${one}`], random)
      : pick([`buying ${q} ${many}`, `${q} new ${many}`], random);
  return { text, kind: one, kgCO2e: q * kgEach };
}

function digital(random: Random): ActivitySample {
  if (random() < 0.5) {
    const unit = pick([HOURS, MINUTES], random);
    const q = pick(unit.quantities, random);
    const word = pick(unit.words, random);
    const what = pick(['streaming video', 'streaming movies', 'watching netflix'], random);
    return {
      text: pick([`${what} ${q} ${word}`, `${what} for ${q} ${word}`], random),
      kind: 'streaming',
      kgCO2e: q * unit.factor * DIGITAL.streamingKgPerHour,
    };
  }
  const q = pick([1, 5, 10, 20, 50, 100, 200, 500, 1000, 5000], random);
  const attached = random() < 0.5;
  return {
    text: `sending ${q} emails${attached ? ' with attachments' : ''}`,
    kind: 'email',
    kgCO2e: q * (attached ? DIGITAL.emailWithAttachmentKg : DIGITAL.emailKg),
  };
}

/** Families and how often each is drawn; travel has the richest phrasing, so it leads. */
const FAMILIES: readonly (readonly [(random: Random) => ActivitySample, number])[] = [
  [travel, 0.4],
  [food, 0.2],
  [appliance, 0.18],
  [electricity, 0.04],
  [purchase, 0.1],
  [digital, 0.08],
];

/** Draws one activity from the catalogue and applies the rule to it. */
export function sampleActivity(random: Random): ActivitySample {
  let r = random();
  for (const [family, weight] of FAMILIES) {
    if (r < weight) return family(random);
    r -= weight;
  }
  return travel(random);
}

import SQLText

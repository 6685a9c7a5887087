select * from main_marts.fct_price_features_daily
